"""Export or erase everything socialcare holds about one author (PLATFORM:HANDLE).

Where a person's data lives (store.py keys):
  MENTION#{platform}#{id}  their posts (text, author)       -> the item stays as a dedup marker (so the
                                                               poller does not ingest the post again),
                                                               its content is removed
  CASE#{id} / CASE         cases they opened (author block)  -> author pseudonymised, customer index moved
  CASE#{id} / MSG#...      their messages and the replies    -> text and names replaced with "[erased]"
                           sent to them
  CASE#{id} / OUTBOUND#... what was published to them         -> text removed
  PRIVACY#ERASURE / ...    the record that the erasure ran   -> holds a keyed hash, never the handle

Case events, clocks and SLA figures stay: they hold no personal data and the parity report needs them.
Finding a person is a maintenance scan (never on a hot path); it pages through the table once.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from socialcare.store import Store, from_item, to_item

ERASED = "[erased]"


class PrivacyError(Exception):
    """The request cannot be carried out (bad author reference, store failure)."""


@dataclass
class ErasureReport:
    author: str  # the pseudonym, never the handle
    mentions: int = 0
    cases: int = 0
    messages: int = 0
    outbound: int = 0  # delivery records of every kind, the sum of the three below
    published: int = 0  # posted on the platform
    drafts: int = 0  # recorded for a human to post
    held: int = 0  # held by a quiet period
    record_key: str = ""
    dry_run: bool = False
    case_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_author(ref: str) -> tuple[str, str]:
    platform, sep, handle = ref.partition(":")
    platform, handle = platform.strip().lower(), handle.strip().lstrip("@")
    if not sep or not platform or not handle or not platform.replace("_", "").isalnum() or len(handle) > 256:
        raise PrivacyError(f"author must be PLATFORM:HANDLE (e.g. x:jane_doe), not {ref!r}")
    return platform, handle


def pseudonym(platform: str, handle: str, salt: str = "socialcare") -> str:
    """Stable per person, not reversible without the salt: lets an audit confirm an erasure ran."""
    digest = hmac.new(salt.encode(), f"{platform}:{handle.lower()}".encode(), hashlib.sha256).hexdigest()
    return f"erased:{digest[:24]}"


def _scan(store: Store, expression: str, values: dict[str, Any], names: dict[str, str] | None = None) -> list[dict]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": store.table,
        "FilterExpression": expression,
        "ExpressionAttributeValues": values,
    }
    if names:
        kwargs["ExpressionAttributeNames"] = names
    while True:
        page = store.ddb.scan(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _find(store: Store, platform: str, handle: str) -> dict[str, Any]:
    """Every item that is about this person, raw (DynamoDB JSON)."""
    wanted = handle.lower()
    mentions = [
        i
        for i in _scan(
            store,
            "begins_with(PK, :p) AND SK = :sk",
            {":p": {"S": f"MENTION#{platform}#"}, ":sk": {"S": "MENTION"}},
        )
        if str(from_item(i).get("mention", {}).get("author", {}).get("handle", "")).lower() == wanted
    ]
    customer_keys = {from_item(i).get("customer_key") for i in mentions} - {None}
    mention_keys = {i["PK"]["S"].removeprefix("MENTION#") for i in mentions}
    case_items = _scan(store, "begins_with(PK, :p)", {":p": {"S": "CASE#"}})
    cases, messages, outbound = [], [], []
    for item in case_items:
        data = from_item(item)
        sk = data["SK"]
        if sk == "CASE" and (
            data.get("customer_key") in customer_keys
            or (data.get("platform") == platform and str(data.get("author", {}).get("handle", "")).lower() == wanted)
        ):
            cases.append(item)
    case_pks = {c["PK"]["S"] for c in cases}
    for item in case_items:
        data = from_item(item)
        sk = data["SK"]
        theirs = data["PK"] in case_pks
        if sk.startswith("MSG#"):
            inbound_from_them = data.get("direction") == "in" and (
                data.get("mention_key") in mention_keys
                or (data.get("platform") == platform and str(data.get("author", "")).lower() == wanted)
            )
            if inbound_from_them or (theirs and data.get("direction") == "out"):
                messages.append(item)
        elif sk.startswith("OUTBOUND#") and theirs:
            outbound.append(item)
    return {"mentions": mentions, "cases": cases, "messages": messages, "outbound": outbound}


def export_author(store: Store, ref: str) -> dict[str, Any]:
    """Everything held about the person, as plain JSON (their right of access)."""
    platform, handle = parse_author(ref)
    found = _find(store, platform, handle)
    strip = {
        "PK",
        "SK",
        "GSI1PK",
        "GSI1SK",
        "GSI2PK",
        "GSI2SK",
        "task_token",
        "workflow_input",
        "token_fresh",
        "pending_action",
    }

    def clean(item: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in from_item(item).items() if k not in strip}

    return {
        "author": f"{platform}:{handle}",
        "exported_at": datetime.now(UTC).isoformat(),
        "mentions": [clean(i) for i in found["mentions"]],
        "cases": [clean(i) for i in found["cases"]],
        "messages": [clean(i) for i in found["messages"]],
        "published_to_them": [clean(i) for i in found["outbound"]],
    }


def erase_author(
    store: Store, ref: str, *, requested_by: str, dry_run: bool = False, salt: str = "socialcare"
) -> ErasureReport:
    """Removes or pseudonymises the person's data everywhere in the table, and records that it did."""
    platform, handle = parse_author(ref)
    alias = pseudonym(platform, handle, salt)
    found = _find(store, platform, handle)
    report = ErasureReport(
        author=alias,
        mentions=len(found["mentions"]),
        cases=len(found["cases"]),
        messages=len(found["messages"]),
        outbound=len(found["outbound"]),
        published=sum(from_item(i).get("mode") == "published" for i in found["outbound"]),
        drafts=sum(from_item(i).get("mode") == "draft" for i in found["outbound"]),
        held=sum(from_item(i).get("mode") == "held" for i in found["outbound"]),
        dry_run=dry_run,
        case_ids=sorted(from_item(c)["id"] for c in found["cases"]),
    )
    if dry_run:
        return report
    now = datetime.now(UTC).isoformat()
    ddb, table = store.ddb, store.table
    for item in found["mentions"]:
        ddb.update_item(
            TableName=table,
            Key={"PK": item["PK"], "SK": item["SK"]},
            UpdateExpression="SET erased_at = :now, customer_key = :alias REMOVE mention, tags",
            ExpressionAttributeValues={":now": {"S": now}, ":alias": {"S": alias}},
        )
    for item in found["cases"]:
        ddb.update_item(
            TableName=table,
            Key={"PK": item["PK"], "SK": item["SK"]},
            # The inbox's copy of their opening words goes with the mention.
            UpdateExpression="SET author = :author, customer_key = :alias, GSI2PK = :gsi, erased_at = :now, "
            "summary = :erased REMOVE followers",
            ExpressionAttributeValues={
                ":author": {"M": {"id": {"S": alias}, "handle": {"S": ERASED}}},
                ":erased": {"S": ERASED},
                ":alias": {"S": alias},
                ":gsi": {"S": f"CUSTOMER#{alias}"},
                ":now": {"S": now},
            },
        )
    for item in found["messages"]:
        ddb.update_item(
            TableName=table,
            Key={"PK": item["PK"], "SK": item["SK"]},
            UpdateExpression="SET #text = :erased, author = :author, erased_at = :now REMOVE permalink",
            ExpressionAttributeNames={"#text": "text"},
            ExpressionAttributeValues={
                ":erased": {"S": ERASED},
                ":now": {"S": now},
                ":author": {
                    "S": ERASED if from_item(item).get("direction") == "in" else from_item(item).get("author", "")
                },
            },
        )
    for customer_key in sorted({from_item(i).get("customer_key") for i in found["mentions"]} - {None}):
        # The routing pointer to their latest case is keyed by their platform id: it goes too.
        ddb.delete_item(TableName=table, Key={"PK": {"S": f"CUSTOMER#{customer_key}"}, "SK": {"S": "LATEST"}})
    for item in found["outbound"]:
        ddb.update_item(
            TableName=table,
            Key={"PK": item["PK"], "SK": item["SK"]},
            UpdateExpression="SET erased_at = :now REMOVE #text",
            ExpressionAttributeNames={"#text": "text"},
            ExpressionAttributeValues={":now": {"S": now}},
        )
    record_id = uuid.uuid4().hex
    report.record_key = f"PRIVACY#ERASURE/{now}#{record_id}"
    store.put(
        to_item(
            {
                "PK": "PRIVACY#ERASURE",
                "SK": f"{now}#{record_id}",
                "author": alias,
                "requested_by": requested_by,
                "at": now,
                "mentions": report.mentions,
                "cases": report.cases,
                "messages": report.messages,
                "outbound": report.outbound,
                "published": report.published,
                "drafts": report.drafts,
                "held": report.held,
                "case_ids": report.case_ids,
            }
        )
    )
    return report


def erasures(store: Store) -> list[dict[str, Any]]:
    page = store.ddb.query(
        TableName=store.table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "PRIVACY#ERASURE"}},
    )
    return [from_item(i) for i in page.get("Items", [])]
