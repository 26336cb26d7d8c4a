"""Dead-letter queues: say why each message is there, and return the repairable ones to the pipeline.

    socialcare dlq show QUEUE             what is waiting, by reason
    socialcare dlq redrive QUEUE [--dry-run]

QUEUE is `mentions`, `ingest` or `department`; the URLs come from the stack's outputs, never from
hard-coded names. What "repaired" means per queue:

- mentions: a message SQS moved after maxReceiveCount failures (a crash, throttling, an outage) goes
  back to the mentions queue as it was; dedup makes that safe. A message the router rejected as
  invalid goes back only if it now validates (e.g. after a model fix); otherwise it stays, with its
  reason, for a human.
- ingest: the raw platform item is normalised again with today's connector code; if it now makes a
  Mention, that Mention is queued, otherwise the item stays.
- department: a work item goes back to its department's queue (the body names it).

Nothing is deleted from a dead-letter queue until its replacement is accepted by SQS.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

QUEUES = {
    "mentions": "MentionsDeadLetterQueueUrl",
    "ingest": "IngestDeadLetterQueueUrl",
    "department": "DepartmentDeadLetterQueueUrl",
}
MAX_RECEIVE = {"mentions": 3, "department": 5}


@dataclass
class Classified:
    reason_kind: str  # invalid | failed-repeatedly | unparseable | unknown
    reason: str
    target_body: str | None = None  # what to send back, if repairable
    target_queue: str | None = None  # "mentions" or a department queue URL


@dataclass
class RedriveResult:
    queue: str
    seen: int = 0
    returned: int = 0
    kept: int = 0
    reasons: Counter = field(default_factory=Counter)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "seen": self.seen,
            "returned": self.returned,
            "kept": self.kept,
            "reasons": dict(self.reasons),
            "dry_run": self.dry_run,
        }


def _attr(message: dict[str, Any], name: str) -> str | None:
    value = message.get("MessageAttributes", {}).get(name)
    return value.get("StringValue") if value else None


def _renormalise(platform: str, raw: Any) -> Any:
    """Today's connector code on a stored raw item; None when it still does not fit."""
    from socialcare.ingest import bluesky, mastodon, reddit, x
    from socialcare.ingest.base import normalise_items

    builders = {
        "x": lambda item: x.mention_from_post(item, {}),
        "mastodon": mastodon.mention_from_status,
        "bluesky": lambda item: bluesky.mention_from_post(item, {}),
        "reddit": reddit.mention_from_thing,
    }
    if platform not in builders:
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    mentions, _dead = normalise_items([raw], builders[platform])
    return mentions[0] if mentions else None


def classify_dead_letter(queue: str, message: dict[str, Any]) -> Classified:
    """Why this message is in the dead-letter queue, and what (if anything) repairs it."""
    from socialcare.ingest.sinks import sqs_safe
    from socialcare.models import Mention

    body = message.get("Body", "")
    receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "0") or 0)
    if queue == "mentions":
        reason = _attr(message, "reason")
        try:
            mention = Mention.model_validate_json(body)
        except (ValueError, ValidationError, RecursionError):
            mention = None
        if reason:
            if mention is not None:
                return Classified("invalid", f"{reason} (valid now)", mention.model_dump_json(), "mentions")
            return Classified("invalid", reason)
        if mention is not None:
            return Classified("failed-repeatedly", "moved by SQS after repeated processing failures", body, "mentions")
        return Classified("unknown", "no reason attribute and not a mention")
    if queue == "ingest":
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return Classified("unknown", "ingest dead letter is not JSON")
        if not isinstance(data, dict) or "reason" not in data or "raw" not in data:
            return Classified("unknown", "ingest dead letter without reason/raw")
        mention = None if data.get("truncated") else _renormalise(str(data.get("platform")), data["raw"])
        if mention is not None:
            return Classified(
                "unparseable",
                f"{data['reason']} (parses now)",
                sqs_safe(mention.model_dump_json()),
                "mentions",
            )
        return Classified("unparseable", str(data["reason"]))
    if queue == "department":
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return Classified("unknown", "work item is not JSON")
        dept = data.get("department") if isinstance(data, dict) else None
        if not isinstance(dept, str) or not dept:
            return Classified("unknown", "work item names no department")
        return Classified("failed-repeatedly", f"work item failed {receives} receives", body, f"department:{dept}")
    raise ValueError(f"unknown dead-letter queue {queue!r}; one of {sorted(QUEUES)}")


def _target_url(outputs: dict[str, str], target: str) -> str | None:
    if target == "mentions":
        return outputs["MentionsQueueUrl"]
    dept = target.removeprefix("department:")
    known = [d.strip() for d in outputs.get("Departments", "").split(",") if d.strip()]
    if dept not in known:
        return None
    return f"{outputs['MentionsQueueUrl'].rsplit('/', 1)[0]}/{outputs['DepartmentQueuePrefix']}{dept}"


def redrive(outputs: dict[str, str], queue: str, *, dry_run: bool, sqs: Any, limit: int = 100_000) -> RedriveResult:
    """Returns every repairable message in the named dead-letter queue to the pipeline."""
    if queue not in QUEUES:
        raise ValueError(f"unknown dead-letter queue {queue!r}; one of {sorted(QUEUES)}")
    url = outputs[QUEUES[queue]]
    result = RedriveResult(queue=queue, dry_run=dry_run)
    kept: list[str] = []
    while result.seen < limit:
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=300,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not got:
            break
        for message in got:
            result.seen += 1
            c = classify_dead_letter(queue, message)
            result.reasons[c.reason_kind] += 1
            if c.target_body is None or dry_run:
                kept.append(message["ReceiptHandle"])
                if c.target_body is not None:
                    result.returned += 1  # would return
                else:
                    result.kept += 1
                continue
            target = _target_url(outputs, c.target_queue or "")
            if target is None:  # a department the stack does not have: keep it for a human
                kept.append(message["ReceiptHandle"])
                result.kept += 1
                continue
            sqs.send_message(QueueUrl=target, MessageBody=c.target_body)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            result.returned += 1
    for handle in kept:  # visible again for the next look; nothing is lost
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    return result


# ------------------------------------------------------------------------------------ CLI
def _outputs(args: argparse.Namespace) -> tuple[dict[str, str], Any]:
    from socialcare.agents.connect import describe, target_from_args

    target = target_from_args(args)
    session = target.session()
    outputs, _ = describe(target.client(session, "cloudformation"), target.stack_name, target.where)
    return outputs, target.client(session, "sqs")


def _cmd_redrive(args: argparse.Namespace) -> int:
    outputs, sqs = _outputs(args)
    result = redrive(outputs, args.queue, dry_run=args.dry_run, sqs=sqs)
    if args.json:
        print(json.dumps(result.as_dict()))
    else:
        verb = "would return" if args.dry_run else "returned"
        print(f"{args.queue} dead-letter queue: {result.seen} messages; {verb} {result.returned}; kept {result.kept}")
        for kind, n in sorted(result.reasons.items()):
            print(f"  {kind}: {n}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    args.dry_run = True
    return _cmd_redrive(args)


def register(sub: argparse._SubParsersAction) -> None:
    from socialcare.agents.connect import add_target_arguments

    dlq = sub.add_parser("dlq", help="dead-letter queues: why messages are there, and redrive the repairable ones")
    dsub = dlq.add_subparsers(dest="dlq_command", required=True)
    for name, helptext, func in (
        ("redrive", "return repaired messages to the pipeline", _cmd_redrive),
        ("show", "count what waits, by reason (changes nothing)", _cmd_show),
    ):
        p = dsub.add_parser(name, help=helptext)
        p.add_argument("queue", choices=sorted(QUEUES))
        if name == "redrive":
            p.add_argument("--dry-run", action="store_true", help="report what would be returned; change nothing")
        add_target_arguments(p)
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=func)
