"""Single-table DynamoDB access. Every write that must happen once is a conditional write.

Keys (PK / SK):
  MENTION#{platform}#{id} / MENTION        dedup key + the mention, expires with the retention
  SOURCE#{source_id}      / CURSOR         poller cursor and source health (ingest)
  CASE#{case_id}          / CASE           the case; GSI1 = open cases per department by SLA due,
                                           GSI2 = a customer's cases across channels
  CASE#{case_id}          / EVENT#{at}#... one case event per state change
  CASE#{case_id}          / MSG#{at}#...   the conversation, both directions
  CASE#{case_id}          / ACTION#{id}    the outcome of one agent action (idempotency)
  THREAD#{platform}#{conversation} / THREAD   which case a conversation belongs to
  CUSTOMER#{platform}#{author}     / LATEST   the customer's latest case (routing reads it strongly
                                           consistent; GSI2 is eventually consistent)
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from socialcare.models import Case, CaseEvent, Mention, Tags


class _Serializer:
    """JSON-shaped Python values (what _plain returns) to DynamoDB AttributeValues, as boto3's
    TypeSerializer does for them. Here rather than boto3's: importing boto3 (and s3transfer with it)
    costs a Lambda about 90 ms of cold start, and the handlers only need botocore clients."""

    def serialize(self, value: Any) -> dict[str, Any]:
        if value is None:
            return {"NULL": True}
        if isinstance(value, bool):
            return {"BOOL": value}
        if isinstance(value, int | Decimal):
            return {"N": str(value)}
        if isinstance(value, str):
            return {"S": value}
        if isinstance(value, bytes | bytearray):
            return {"B": bytes(value)}
        if isinstance(value, list | tuple):
            return {"L": [self.serialize(v) for v in value]}
        if isinstance(value, dict):
            return {"M": {str(k): self.serialize(v) for k, v in value.items()}}
        raise TypeError(f"unsupported type for DynamoDB: {type(value).__name__}")


class _Deserializer:
    """DynamoDB AttributeValues to Python values: numbers as Decimal, sets as sets (boto3's rules)."""

    def deserialize(self, value: dict[str, Any]) -> Any:
        ((kind, data),) = value.items()
        if kind == "S":
            return data
        if kind == "N":
            return Decimal(data)
        if kind == "BOOL":
            return bool(data)
        if kind == "NULL":
            return None
        if kind == "M":
            return {k: self.deserialize(v) for k, v in data.items()}
        if kind == "L":
            return [self.deserialize(v) for v in data]
        if kind == "B":
            return bytes(data)
        if kind == "SS":
            return set(data)
        if kind == "NS":
            return {Decimal(n) for n in data}
        if kind == "BS":
            return {bytes(b) for b in data}
        raise TypeError(f"unknown DynamoDB type {kind!r}")


_SER = _Serializer()
_DE = _Deserializer()


class StoreError(Exception):
    """DynamoDB refused or failed a request."""


class ConflictError(StoreError):
    """A conditional write lost: someone else changed the item first. `failed` holds the positions,
    in the transaction, of the items whose condition failed (empty for a single-item write)."""

    def __init__(self, message: str, failed: frozenset[int] = frozenset()) -> None:
        super().__init__(message)
        self.failed = failed


class StoreBusyError(StoreError):
    """DynamoDB kept cancelling a transaction for a reason other than a failed condition (a
    concurrent transaction on one of its items, throttling, a request limit) past the bounded
    retries, or kept leaving keys of a read unprocessed. Nothing was written; the caller fails its
    work so that it comes back later."""

    def __init__(self, message: str, reasons: list[str]) -> None:
        super().__init__(message)
        self.reasons = reasons


class NotFoundError(StoreError):
    """No such item."""


def _plain(value: Any) -> Any:
    """JSON-safe data with floats as Decimal, the only number type DynamoDB's serializer takes."""
    return json.loads(json.dumps(value, default=str), parse_float=Decimal)


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _SER.serialize(v) for k, v in _plain(data).items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    def fix(v: Any) -> Any:
        if isinstance(v, Decimal):
            return int(v) if v == v.to_integral_value() else float(v)
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        if isinstance(v, list):
            return [fix(x) for x in v]
        return v

    return {k: fix(_DE.deserialize(v)) for k, v in item.items()}


def case_key(case_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"CASE#{case_id}"}, "SK": {"S": "CASE"}}


def mention_key(key: str) -> dict[str, Any]:
    return {"PK": {"S": f"MENTION#{key}"}, "SK": {"S": "MENTION"}}


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds")


def _cancel_reasons(exc: ClientError) -> list[str]:
    return [r.get("Code") or "None" for r in exc.response.get("CancellationReasons", [])]


# What a cancelled transaction reports for an item (API CancellationReason, TransactionCanceledException):
# "None" for an item that was fine, "ConditionalCheckFailed" for a condition that did not hold; every
# other code (TransactionConflict, ThrottlingError, ProvisionedThroughputExceeded, RequestLimitExceeded,
# ValidationError, ItemCollectionSizeLimitExceeded, and any code added later) says nothing about the
# data, so the transaction is tried again rather than read as a lost condition.
CONDITION_FAILED = "ConditionalCheckFailed"
TRANSACT_ATTEMPTS = 6
TRANSACT_BASE_S = 0.025
TRANSACT_CAP_S = 1.0
# BatchGetItem's limit of keys per request (API reference: BatchGetItem).
BATCH_GET_KEYS = 100
BATCH_WRITE_ITEMS = 25
# An inbox row shows the opening message's start, not the whole text.
SUMMARY_CHARS = 140


class Store:
    def __init__(self, client: Any, table: str, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.ddb = client
        self.table = table
        self.sleep = sleep

    # -------------------------------------------------------------- items
    @staticmethod
    def row_copies(case: Case, summary: str | None = None) -> dict[str, Any]:
        """Three copies for the inbox index (InboxByDepartment projects only the attributes an inbox row
        shows): the opening message's first 140 characters, the language and the author's follower
        count (none when the platform gave none). All three are fixed when the case opens."""
        copies = {
            "summary": summary[:SUMMARY_CHARS] if summary is not None else None,
            "language": case.tags.language.value,
            "followers": case.author.followers,
        }
        return {k: v for k, v in copies.items() if v is not None}

    def case_item(self, case: Case, summary: str | None = None) -> dict[str, Any]:
        """The case as stored, with its inbox row's copies (row_copies)."""
        data = case.model_dump(mode="json")
        data.update(self.row_copies(case, summary))
        data.update(PK=f"CASE#{case.id}", SK="CASE", GSI2PK=f"CUSTOMER#{case.customer_key}", GSI2SK=iso(case.opened_at))
        if case.is_open:
            due = case.clock.due_at if case.clock else case.first_response_due
            data.update(GSI1PK=f"DEPT#{case.department}#OPEN", GSI1SK=f"{iso(due)}#{case.id}")
        return to_item(data)

    def mention_item(self, mention: Mention, tags: Tags | None, case_id: str | None, retention_days: int) -> dict:
        expires = datetime.now(UTC) + timedelta(days=retention_days)
        return to_item(
            {
                "PK": f"MENTION#{mention.key}",
                "SK": "MENTION",
                "mention": mention.model_dump(mode="json"),
                "tags": tags.model_dump(mode="json") if tags else None,
                "case_id": case_id,
                "customer_key": mention.customer_key,
                "expires_at": int(expires.timestamp()),
            }
        )

    def event_item(self, event: CaseEvent) -> dict[str, Any]:
        data = event.model_dump(mode="json")
        data.update(PK=f"CASE#{event.case_id}", SK=f"EVENT#{iso(event.at)}#{event.type}#{uuid.uuid4().hex[:8]}")
        return to_item(data)

    def message_item(self, case_id: str, message: dict[str, Any], at: datetime, ref: str) -> dict[str, Any]:
        data = dict(message)
        data.update(PK=f"CASE#{case_id}", SK=f"MSG#{iso(at)}#{ref}", at=iso(at))
        return to_item(data)

    def thread_item(self, thread_key: str, case_id: str) -> dict[str, Any]:
        return to_item({"PK": f"THREAD#{thread_key}", "SK": "THREAD", "case_id": case_id})

    def latest_case_item(self, customer_key: str, case_id: str, at: datetime) -> dict[str, Any]:
        return to_item({"PK": f"CUSTOMER#{customer_key}", "SK": "LATEST", "case_id": case_id, "opened_at": iso(at)})

    # -------------------------------------------------------------- writes
    def transact(self, ops: list[dict[str, Any]]) -> None:
        """All or nothing. Only failed conditions raise ConflictError (naming which items); any
        other cancellation is retried with capped exponential backoff and full jitter, then raises
        StoreBusyError, so that no caller mistakes a busy table for "already done"."""
        for op in ops:
            next(iter(op.values()))["TableName"] = self.table
        for attempt in range(TRANSACT_ATTEMPTS):
            try:
                self.ddb.transact_write_items(TransactItems=ops)
                return
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise StoreError(str(exc)) from exc
                reasons = _cancel_reasons(exc)
                others = [r for r in reasons if r not in {"None", CONDITION_FAILED}]
                if not others and CONDITION_FAILED in reasons:
                    failed = frozenset(i for i, r in enumerate(reasons) if r == CONDITION_FAILED)
                    raise ConflictError(f"transaction cancelled: {reasons}", failed) from exc
                if attempt + 1 == TRANSACT_ATTEMPTS:
                    message = f"transaction cancelled {TRANSACT_ATTEMPTS} times: {reasons}"
                    raise StoreBusyError(message, reasons) from exc
                self._back_off(attempt)

    def _back_off(self, retry: int) -> None:
        """Capped exponential backoff with full jitter before the retry-th retry (from 0), as AWS advises
        for transactions and for a batch's unprocessed entries."""
        self.sleep(random.uniform(0, min(TRANSACT_CAP_S, TRANSACT_BASE_S * 2**retry)))  # noqa: S311

    def put_new(self, item: dict[str, Any]) -> bool:
        """Writes the item unless its key exists. False means it was already there."""
        try:
            self.ddb.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(PK)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StoreError(str(exc)) from exc
        return True

    def put(self, item: dict[str, Any]) -> None:
        try:
            self.ddb.put_item(TableName=self.table, Item=item)
        except ClientError as exc:
            raise StoreError(str(exc)) from exc

    def update_case(
        self, case_id: str, expected_version: int, fields: dict[str, Any], *, extra: list | None = None
    ) -> None:
        """Optimistic update: SET/REMOVE the fields and bump the version if nobody else did first."""
        op = self.case_update_op(case_id, expected_version, fields)
        self.transact([op, *(extra or [])])

    def case_update_op(self, case_id: str, expected_version: int, fields: dict[str, Any]) -> dict[str, Any]:
        sets, removes, values, names = ["#version = :newv"], [], {}, {"#version": "version"}
        values[":newv"] = _SER.serialize(expected_version + 1)
        values[":expected"] = _SER.serialize(expected_version)
        for i, (name, value) in enumerate(fields.items()):
            names[f"#f{i}"] = name
            if value is None:
                removes.append(f"#f{i}")
            else:
                values[f":v{i}"] = _SER.serialize(_plain(value))
                sets.append(f"#f{i} = :v{i}")
        expr = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        return {
            "Update": {
                "Key": case_key(case_id),
                "UpdateExpression": expr,
                "ConditionExpression": "#version = :expected",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    # -------------------------------------------------------------- reads
    def get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        try:
            item = self.ddb.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        except ClientError as exc:
            raise StoreError(str(exc)) from exc
        return from_item(item) if item else None

    def get_case(self, case_id: str) -> Case:
        data = self.get(case_key(case_id))
        if data is None:
            raise NotFoundError(f"no case {case_id!r}")
        return Case.model_validate(data)

    def get_mention(self, key: str) -> dict[str, Any] | None:
        return self.get(mention_key(key))

    def thread_case(self, thread_key: str) -> str | None:
        data = self.get({"PK": {"S": f"THREAD#{thread_key}"}, "SK": {"S": "THREAD"}})
        return data["case_id"] if data else None

    def latest_case_id(self, customer_key: str) -> str | None:
        data = self.get({"PK": {"S": f"CUSTOMER#{customer_key}"}, "SK": {"S": "LATEST"}})
        return data["case_id"] if data else None

    def query_case_items(self, case_id: str, prefix: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": f"CASE#{case_id}"}, ":prefix": {"S": prefix}},
        }
        while True:
            page = self.ddb.query(**kwargs)
            items.extend(from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def events(self, case_id: str) -> list[dict[str, Any]]:
        return self.query_case_items(case_id, "EVENT#")

    def messages(self, case_id: str) -> list[dict[str, Any]]:
        return self.query_case_items(case_id, "MSG#")

    def customer_cases(self, customer_key: str, limit: int = 20) -> list[Case]:
        page = self.ddb.query(
            TableName=self.table,
            IndexName="ByCustomer",
            KeyConditionExpression="GSI2PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"CUSTOMER#{customer_key}"}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [Case.model_validate(from_item(i)) for i in page.get("Items", [])]

    def open_cases(self, department: str, limit: int = 100) -> list[Case]:
        """Open cases of a department, the one whose SLA falls due first at the top."""
        cases: list[Case] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "OpenByDepartment",
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"DEPT#{department}#OPEN"}},
        }
        while len(cases) < limit:
            page = self.ddb.query(**kwargs)
            cases.extend(Case.model_validate(from_item(i)) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return cases[:limit]

    def batch_get(
        self,
        keys: list[dict[str, Any]],
        projection: str | None = None,
        names: dict[str, str] | None = None,
        *,
        consistent: bool = False,
        counted: Callable[[int], None] | None = None,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Items by key (raw AttributeValues), as BatchGetItem's contract asks: at most 100 keys per
        request, each key once (a request that repeats a key is refused), and the keys DynamoDB leaves
        in UnprocessedKeys (throttled, or past 16 MB of response) asked again after a jittered backoff,
        up to TRANSACT_ATTEMPTS requests per 100 keys. A request refused as a whole (throttling) is
        retried by the client's own retry mode (aws.CLIENT_CONFIG). `counted` hears the number of keys
        of every request sent. Returns (found, in no particular order; keys still unprocessed)."""
        unique = list({json.dumps(k, sort_keys=True): k for k in keys}.values())
        spec: dict[str, Any] = {}
        if projection:
            spec["ProjectionExpression"] = projection
        if names:
            spec["ExpressionAttributeNames"] = names
        if consistent:
            spec["ConsistentRead"] = True
        found: list[dict[str, Any]] = []
        left: list[dict[str, Any]] = []
        for start in range(0, len(unique), BATCH_GET_KEYS):
            request: dict[str, Any] = {self.table: {**spec, "Keys": unique[start : start + BATCH_GET_KEYS]}}
            for attempt in range(TRANSACT_ATTEMPTS):
                if attempt:
                    self._back_off(attempt - 1)
                if counted:
                    counted(len(request[self.table]["Keys"]))
                try:
                    got = self.ddb.batch_get_item(RequestItems=request)
                except ClientError as exc:
                    raise StoreError(str(exc)) from exc
                found.extend(got.get("Responses", {}).get(self.table, []))
                request = got.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                left.extend(request[self.table]["Keys"])
        return found, left

    def batch_get_all(
        self,
        keys: list[dict[str, Any]],
        projection: str | None = None,
        names: dict[str, str] | None = None,
        *,
        consistent: bool = False,
        counted: Callable[[int], None] | None = None,
    ) -> list[dict[str, Any]]:
        """batch_get for a caller that must not take an unread item for a missing one: keys still
        unprocessed after the retries raise StoreBusyError (the work fails and comes back later)."""
        found, left = self.batch_get(keys, projection, names, consistent=consistent, counted=counted)
        if left:
            raise StoreBusyError(
                f"BatchGetItem left {len(left)} keys unprocessed after {TRANSACT_ATTEMPTS} requests",
                ["UnprocessedKeys"],
            )
        return found

    def batch_put(self, items: list[dict[str, Any]], *, counted: Callable[[int], None] | None = None) -> None:
        """Puts raw items as BatchWriteItem's contract asks: at most 25 per request, and the items DynamoDB
        leaves in UnprocessedItems (throttled) sent again after a jittered backoff, up to
        TRANSACT_ATTEMPTS requests per 25. Items still unwritten raise StoreBusyError: the caller's work
        fails and comes back, instead of going on as if they were written. `counted` hears the number of
        items of every request sent."""
        for start in range(0, len(items), BATCH_WRITE_ITEMS):
            pending = [{"PutRequest": {"Item": i}} for i in items[start : start + BATCH_WRITE_ITEMS]]
            for attempt in range(TRANSACT_ATTEMPTS):
                if attempt:
                    self._back_off(attempt - 1)
                if counted:
                    counted(len(pending))
                try:
                    got = self.ddb.batch_write_item(RequestItems={self.table: pending})
                except ClientError as exc:
                    raise StoreError(str(exc)) from exc
                pending = (got.get("UnprocessedItems") or {}).get(self.table, [])
                if not pending:
                    break
            else:
                raise StoreBusyError(
                    f"BatchWriteItem left {len(pending)} items unprocessed after {TRANSACT_ATTEMPTS} requests",
                    ["UnprocessedItems"],
                )

    def mentions(
        self, mention_keys: list[str], projection: str, names: dict[str, str] | None = None
    ) -> dict[str, dict[str, Any]]:
        """Mention items by mention key (the attributes projected, PK among them), 100 keys per
        BatchGetItem. A mention past its retention (or still unread after the retries) is absent."""
        out: dict[str, dict[str, Any]] = {}
        found, _ = self.batch_get([mention_key(k) for k in mention_keys], projection, names)
        for item in found:
            data = from_item(item)
            out[data["PK"].removeprefix("MENTION#")] = data
        return out

    def count_open_cases(self, department: str) -> int:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "OpenByDepartment",
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"DEPT#{department}#OPEN"}},
            "Select": "COUNT",
        }
        total = 0
        while True:
            page = self.ddb.query(**kwargs)
            total += int(page.get("Count", 0))
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def scan_prefix(self, prefix: str, sk: str) -> list[dict[str, Any]]:
        """Reports and maintenance only (never on a hot path): every item of one kind."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "begins_with(PK, :p) AND SK = :sk",
            "ExpressionAttributeValues": {":p": {"S": prefix}, ":sk": {"S": sk}},
        }
        while True:
            page = self.ddb.scan(**kwargs)
            items.extend(from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
