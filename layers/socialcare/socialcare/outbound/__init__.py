"""Outbound delivery: every message the brand sends a customer goes through `deliver`.

    from socialcare.outbound import deliver
    d = deliver(deps, case, "Sorry about your bag - I'm on it.", channel="public", kind="reply",
                idempotency_key=f"{request_id}-0")
    d.mode        # "published" (posted through the platform's write API), "draft" (recorded for a human
                  # to post, with d.reason saying why), "held" (not sent: a hold applies, d.reason says which)
                  # or "unknown" (an earlier attempt may have been posted and the platform cannot say:
                  # a person checks before resending)

Stable interface (other capabilities call it: agent actions, acknowledgements, incident updates):

    deliver(deps, case, text, channel, kind, idempotency_key) -> Delivery

- channel: "public" (a reply in the customer's thread), "dm" or "email" (private, after a hand-off).
- kind: what the message is for - "reply", "handoff", "acknowledgement", "incident_update", ... Holds
  (e.g. a quiet period for the case's region) look at the kind: see `hold_reason`.
- idempotency_key: the same key twice has one effect; the second call returns the first Delivery
  (`replayed=True`) without contacting the platform again. Keys are scoped to the case. The record
  is written before the platform is asked and settled after, so a retry after a crash in between
  looks the post up instead of posting again (socialcare.outbound.outbox); OutboundError means
  "an attempt may still be in flight: retry the same key later".
- Publishing needs write credentials for the case's platform in the brand configuration
  (`outbound: {x: {secret: "secretsmanager:..."}}`) and a write adapter for that platform (X, Mastodon).
  Otherwise, or when the platform refuses, the message becomes a draft: nothing is lost, a human posts it.
"""

from socialcare.outbound.delivery import Delivery, OutboundError, deliver, hold_reason
from socialcare.outbound.outbox import OutboxBusyError, Outcome, publish_once, reconcile_stuck, resolve_writer
from socialcare.outbound.writers import OutboundMessage, PublishError, Writer, writer_for

__all__ = [
    "Delivery",
    "OutboundError",
    "OutboundMessage",
    "Outcome",
    "OutboxBusyError",
    "PublishError",
    "Writer",
    "deliver",
    "hold_reason",
    "publish_once",
    "reconcile_stuck",
    "resolve_writer",
    "writer_for",
]
