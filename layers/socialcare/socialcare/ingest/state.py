"""Per-source state in the single table: PK=SOURCE#{id}, SK=CURSOR.

Each source has its own item, so pollers for many sources run in parallel without sharing a cursor;
a version number stops two overlapping runs of the same source from moving its cursor backwards.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from botocore.exceptions import ClientError

from socialcare.ingest.errors import CursorConflictError, IngestError


@dataclass(frozen=True)
class SourceState:
    source_id: str
    cursor: dict[str, Any] = field(default_factory=dict)
    rate_limited_until: float | None = None
    healthy: bool = True
    unhealthy_reason: str | None = None
    # A fingerprint (not the value) of the secret that failed: a rotated secret lifts the block.
    failed_secret: str | None = None
    disabled: bool = False
    version: int = 0


class CursorStore(Protocol):
    def load(self, source_id: str) -> SourceState: ...

    def save_cursor(self, state: SourceState, cursor: dict[str, Any]) -> SourceState: ...

    def mark_rate_limited(self, source_id: str, until: float) -> None: ...

    def mark_unhealthy(self, source_id: str, reason: str, *, secret_fingerprint: str | None) -> None: ...

    def mark_healthy(self, source_id: str) -> None: ...

    def disable(self, source_id: str, reason: str) -> None: ...

    def polled_at(self, source_id: str) -> float | None: ...

    def mark_polled(self, source_id: str, at: float) -> None: ...


def _key(source_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"SOURCE#{source_id}"}, "SK": {"S": "CURSOR"}}


class DynamoCursorStore:
    """The source item in DynamoDB (low-level client; the cursor is stored as a JSON string)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def load(self, source_id: str) -> SourceState:
        try:
            item = self._client.get_item(TableName=self._table, Key=_key(source_id), ConsistentRead=True).get("Item")
        except ClientError as exc:
            raise IngestError(f"cannot read source state {source_id}: {exc.response['Error']['Code']}") from exc
        if not item:
            return SourceState(source_id=source_id)
        return SourceState(
            source_id=source_id,
            cursor=json.loads(item["cursor"]["S"]) if "cursor" in item else {},
            rate_limited_until=float(item["rate_limited_until"]["N"]) if "rate_limited_until" in item else None,
            healthy=item.get("healthy", {"BOOL": True})["BOOL"],
            unhealthy_reason=item.get("unhealthy_reason", {}).get("S"),
            failed_secret=item.get("failed_secret", {}).get("S"),
            disabled=item.get("disabled", {"BOOL": False})["BOOL"],
            version=int(item.get("version", {"N": "0"})["N"]),
        )

    def save_cursor(self, state: SourceState, cursor: dict[str, Any]) -> SourceState:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_key(state.source_id),
                UpdateExpression="SET #c = :c, #v = :next, updated_at = :now",
                ConditionExpression="attribute_not_exists(#v) OR #v = :v",
                ExpressionAttributeNames={"#c": "cursor", "#v": "version"},
                ExpressionAttributeValues={
                    ":c": {"S": json.dumps(cursor, sort_keys=True)},
                    ":v": {"N": str(state.version)},
                    ":next": {"N": str(state.version + 1)},
                    ":now": {"N": str(int(time.time()))},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise CursorConflictError(f"source {state.source_id} was advanced by another poller") from exc
            raise IngestError(f"cannot save cursor of {state.source_id}: {exc.response['Error']['Code']}") from exc
        return replace(state, cursor=cursor, version=state.version + 1)

    def _set(
        self, source_id: str, expression: str, values: dict[str, Any], names: dict[str, str] | None = None
    ) -> None:
        kwargs: dict[str, Any] = {"ExpressionAttributeValues": values}
        if names:
            kwargs["ExpressionAttributeNames"] = names
        try:
            self._client.update_item(TableName=self._table, Key=_key(source_id), UpdateExpression=expression, **kwargs)
        except ClientError as exc:
            raise IngestError(f"cannot update source {source_id}: {exc.response['Error']['Code']}") from exc

    def mark_rate_limited(self, source_id: str, until: float) -> None:
        self._set(source_id, "SET rate_limited_until = :u", {":u": {"N": f"{until:.3f}"}})

    def mark_unhealthy(self, source_id: str, reason: str, *, secret_fingerprint: str | None) -> None:
        values: dict[str, Any] = {
            ":f": {"BOOL": False},
            ":r": {"S": reason[:500]},
            ":s": {"S": secret_fingerprint or "-"},
        }
        self._set(source_id, "SET healthy = :f, unhealthy_reason = :r, failed_secret = :s", values)

    def mark_healthy(self, source_id: str) -> None:
        self._set(source_id, "SET healthy = :t REMOVE unhealthy_reason, failed_secret", {":t": {"BOOL": True}})

    def disable(self, source_id: str, reason: str) -> None:
        self._set(
            source_id,
            "SET disabled = :t, unhealthy_reason = :r",
            {":t": {"BOOL": True}, ":r": {"S": reason[:500]}},
        )

    def polled_at(self, source_id: str) -> float | None:
        try:
            item = self._client.get_item(
                TableName=self._table, Key=_key(source_id), ProjectionExpression="polled_at"
            ).get("Item")
        except ClientError as exc:
            raise IngestError(f"cannot read source {source_id}: {exc.response['Error']['Code']}") from exc
        return float(item["polled_at"]["N"]) if item and "polled_at" in item else None

    def mark_polled(self, source_id: str, at: float) -> None:
        self._set(source_id, "SET polled_at = :p", {":p": {"N": f"{at:.3f}"}})


class MemoryCursorStore:
    """The same contract in memory: for the benchmark, unit tests and one-process local runs."""

    def __init__(self) -> None:
        self._states: dict[str, SourceState] = {}
        self._polled: dict[str, float] = {}
        self._lock = threading.Lock()

    def load(self, source_id: str) -> SourceState:
        with self._lock:
            return self._states.get(source_id, SourceState(source_id=source_id))

    def save_cursor(self, state: SourceState, cursor: dict[str, Any]) -> SourceState:
        with self._lock:
            current = self._states.get(state.source_id, SourceState(source_id=state.source_id))
            if current.version != state.version:
                raise CursorConflictError(f"source {state.source_id} was advanced by another poller")
            new = replace(current, cursor=json.loads(json.dumps(cursor)), version=current.version + 1)
            self._states[state.source_id] = new
            return replace(state, cursor=new.cursor, version=new.version)

    def _update(self, source_id: str, **changes: Any) -> None:
        with self._lock:
            current = self._states.get(source_id, SourceState(source_id=source_id))
            self._states[source_id] = replace(current, **changes)

    def mark_rate_limited(self, source_id: str, until: float) -> None:
        self._update(source_id, rate_limited_until=until)

    def mark_unhealthy(self, source_id: str, reason: str, *, secret_fingerprint: str | None) -> None:
        self._update(source_id, healthy=False, unhealthy_reason=reason, failed_secret=secret_fingerprint or "-")

    def mark_healthy(self, source_id: str) -> None:
        self._update(source_id, healthy=True, unhealthy_reason=None, failed_secret=None)

    def disable(self, source_id: str, reason: str) -> None:
        self._update(source_id, disabled=True, unhealthy_reason=reason)

    def polled_at(self, source_id: str) -> float | None:
        return self._polled.get(source_id)

    def mark_polled(self, source_id: str, at: float) -> None:
        self._polled[source_id] = at
