"""The web console's server side: one API entry for people (Cognito-signed in AWS, locally signed in
by `socialcare local up`), dispatching to the agent and ops APIs, plus the ops overview."""
