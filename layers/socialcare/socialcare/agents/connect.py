"""Finding the stack an agent works on: AWS profile and region (or the local endpoint), and every
resource name from the CloudFormation stack's outputs - never a hard-coded name.

Order: an explicit endpoint, else AWS_ENDPOINT_URL, else a running `socialcare local up` (its state
file), else AWS itself with the profile and region given or the usual environment/config chain. A
profile always means AWS; a stack named differently from the local one means AWS when a region is given.

Every command that talks to a stack takes the same four options (`add_target_arguments`) and resolves
them here (`target_from_args`), so there is one way to reach a stack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from socialcare.errors import Exit, UnavailableError, UserError
from socialcare.settings import Settings

DEFAULT_STACK = "socialcare"
STATE_DIR = ".local-stack"
STATE_FILE = "state.json"
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class StackNotFoundError(UserError):
    """No such stack (or not a socialcare stack) where the target points."""

    exit_code = Exit.NOT_FOUND


@dataclass(frozen=True)
class Target:
    stack_name: str
    region: str | None
    endpoint_url: str | None = None
    profile: str | None = None

    @property
    def where(self) -> str:
        if self.endpoint_url:
            return self.endpoint_url
        return f"AWS {self.region or ''}{' profile ' + self.profile if self.profile else ''}".strip()

    def session(self) -> boto3.session.Session:
        if self.endpoint_url and not self.profile:
            return boto3.session.Session(region_name=self.region or "us-east-1", **LOCAL_CREDENTIALS)
        try:
            session = boto3.session.Session(profile_name=self.profile, region_name=self.region)
        except BotoCoreError as exc:  # e.g. ProfileNotFound
            raise UnavailableError(str(exc)) from exc
        if not session.region_name:
            raise UnavailableError(
                "no stack to talk to: no `socialcare local up` is running and no AWS region is set "
                "(give --region or --profile, set AWS_REGION, or start `socialcare local up`)"
            )
        return session

    def export(self) -> None:
        """Points every client this process builds from now on (Powertools Parameters for write
        credentials, socialcare.aws) at the same account, region and endpoint as the target."""
        import os

        from socialcare import aws

        session = self.session()
        os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"] = session.region_name
        if self.endpoint_url:
            os.environ["AWS_ENDPOINT_URL"] = self.endpoint_url
            if not self.profile:
                os.environ["AWS_ACCESS_KEY_ID"] = LOCAL_CREDENTIALS["aws_access_key_id"]
                os.environ["AWS_SECRET_ACCESS_KEY"] = LOCAL_CREDENTIALS["aws_secret_access_key"]
                os.environ.pop("AWS_SESSION_TOKEN", None)
        if self.profile:
            os.environ["AWS_PROFILE"] = self.profile
        aws.reset_clients()
        try:
            from aws_lambda_powertools.utilities.parameters import base
        except ImportError:  # pragma: no cover - Powertools is a runtime dependency
            return
        base.DEFAULT_PROVIDERS.clear()

    def client(self, session: boto3.session.Session, service: str) -> Any:
        return session.client(service, endpoint_url=self.endpoint_url)


def state_path(root: Path | None = None) -> Path:
    """Where `socialcare local up` writes its endpoint: .local-stack/state.json in the checkout
    (SOCIALCARE_LOCAL_STATE overrides, e.g. for tests)."""
    import os

    from socialcare.settings import project_root

    if os.environ.get("SOCIALCARE_LOCAL_STATE"):
        return Path(os.environ["SOCIALCARE_LOCAL_STATE"])

    try:
        base = root or project_root()
    except FileNotFoundError:
        base = Path.cwd()
    return base / STATE_DIR / STATE_FILE


def read_local_state(path: Path | None = None) -> dict[str, Any] | None:
    path = path or state_path()
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def resolve_target(
    *,
    stack: str | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    env: dict[str, str] | None = None,
    state: dict[str, Any] | None = None,
) -> Target:
    env = env or {}
    endpoint = endpoint_url or env.get("AWS_ENDPOINT_URL")
    region = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if endpoint is None and profile is None and not env.get("AWS_PROFILE"):
        state = state if state is not None else read_local_state()
        if state and state.get("endpoint_url") and (stack in (None, state.get("stack_name")) or not region):
            return Target(
                stack or state.get("stack_name", DEFAULT_STACK),
                state.get("region", "us-east-1"),
                state["endpoint_url"],
            )
    return Target(stack or DEFAULT_STACK, region, endpoint, profile)


def add_target_arguments(parser: Any, *, region_flag: bool = True) -> None:
    """The options every command that talks to a stack accepts. `--aws-region` everywhere; `--region`
    too, except where a command's own --region means a geographic area (quiet periods, posts)."""
    group = parser.add_argument_group("stack (default: a running `socialcare local up`, else AWS stack 'socialcare')")
    group.add_argument("--stack", default=None, help="CloudFormation stack name")
    group.add_argument("--profile", default=None, help="AWS profile (means AWS, not the local stack)")
    flags = ["--region", "--aws-region"] if region_flag else ["--aws-region"]
    group.add_argument(*flags, dest="aws_region", default=None, help="AWS region")
    group.add_argument("--endpoint-url", default=None, help="AWS endpoint (e.g. a moto server)")


def target_from_args(args: Any) -> Target:
    """The stack a CLI command names (--stack/--profile/--region/--endpoint-url), else the local one."""
    import os

    return resolve_target(
        stack=args.stack,
        profile=args.profile,
        region=args.aws_region,
        endpoint_url=args.endpoint_url,
        env=dict(os.environ),
    )


def deps_from_args(args: Any) -> Any:
    """Deps for the stack the command line names, without the plug-ins (enough to read; socialcare.assembly's
    deps_from_args adds them); the process's other clients follow it (Target.export)."""
    return deps_for(target_from_args(args))


_OUTPUT_FIELDS = {
    "TableName": "table_name",
    "MentionsQueueUrl": "mentions_queue_url",
    "EscalationQueueUrl": "escalation_queue_url",
    "DepartmentQueuePrefix": "department_queue_prefix",
    "EventBusName": "event_bus_name",
    "EscalationTopicArn": "escalation_topic_arn",
    "StateMachineArn": "state_machine_arn",
}


def settings_from_outputs(stack_name: str, outputs: dict[str, str], parameters: dict[str, str]) -> Settings:
    values: dict[str, Any] = {"stack_name": stack_name}
    for output, name in _OUTPUT_FIELDS.items():
        if outputs.get(output):
            values[name] = outputs[output]
    if outputs.get("Departments"):
        values["departments"] = [d.strip() for d in outputs["Departments"].split(",") if d.strip()]
    if parameters.get("BrandConfigPath"):
        values["config_path"] = parameters["BrandConfigPath"]
    if parameters.get("SlaScale"):
        values["sla_scale"] = parameters["SlaScale"]
    return Settings.model_validate(values)


def describe(cfn: Any, stack_name: str, where: str = "") -> tuple[dict[str, str], dict[str, str]]:
    from botocore.exceptions import EndpointConnectionError

    at = f" at {where}" if where else ""
    try:
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "ValidationError":  # CloudFormation's "Stack with id X does not exist"
            raise StackNotFoundError(f"no stack {stack_name!r}{at}") from exc
        reason = f"{error.get('Code')}: {error.get('Message')}"
        raise UnavailableError(f"cannot read stack {stack_name!r}{at}: {reason}") from exc
    except EndpointConnectionError as exc:
        raise UnavailableError(
            f"cannot reach {where or 'the endpoint'} (if it is a `socialcare local up` that has stopped, "
            "start it again or remove .local-stack/state.json)"
        ) from exc
    except BotoCoreError as exc:
        raise UnavailableError(f"cannot read stack {stack_name!r}{at}: {exc}") from exc
    except IndexError as exc:
        raise StackNotFoundError(f"no stack {stack_name!r}{at}") from exc
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    if "TableName" not in outputs:
        raise StackNotFoundError(f"stack {stack_name!r} has no socialcare outputs (is it a socialcare stack?)")
    return outputs, parameters


def deps_for(target: Target) -> Any:
    """Deps whose clients all talk to the target's account/endpoint, named from its outputs; without the
    plug-ins (socialcare.assembly.deps_for adds them)."""
    from socialcare.cases.deps import Deps
    from socialcare.classify import build_classifier
    from socialcare.config import load_config
    from socialcare.store import Store

    session = target.session()
    outputs, parameters = describe(target.client(session, "cloudformation"), target.stack_name, target.where)
    settings = settings_from_outputs(target.stack_name, outputs, parameters)
    config = load_config(settings.config_path)
    config.check_deployed(settings.departments or None)
    target.export()
    return Deps(
        settings=settings,
        config=config,
        store=Store(target.client(session, "dynamodb"), settings.table_name),
        sfn=target.client(session, "stepfunctions"),
        events=target.client(session, "events"),
        sqs=target.client(session, "sqs"),
        classifier=build_classifier(config),
    )
