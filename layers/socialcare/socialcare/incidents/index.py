"""The LSH index behind a small port: DynamoDB in production, a dict in tests and benchmarks.

Keys (single table):
  LSH#{department}#{band}#{hash} / B     a bucket: the most recent members whose band agrees, packed
                                          into one string "epoch key" per line (see _pack)
  INCSIG#{member key}             / SIG   a member's words, who it is and its incident (if linked)

A new case reads its bands' buckets (one BatchGetItem), the signatures of its best candidates (one
more) and writes its signature and its bands' buckets back (one BatchWriteItem): three requests
whatever the number of open cases. Buckets keep the newest `bucket_cap` entries, items expire by TTL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import ClientError

from socialcare.store import Store, StoreBusyError, StoreError, from_item, to_item


class IndexError_(Exception):  # noqa: N801 - IndexError is a builtin
    """The index store refused or failed a request."""


@dataclass
class Member:
    """Something that can belong to an incident: an open case, or a mention that wanted no case."""

    key: str  # "case#SC-..." or "mention#x#123"
    kind: str  # "case" | "mention"
    department: str
    words: frozenset[str]
    at: float  # epoch seconds
    customer_key: str
    platform: str
    case_id: str | None = None
    mention_key: str | None = None
    region: str | None = None
    incident_id: str | None = None

    def to_data(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "department": self.department,
            "words": sorted(self.words),
            "at": self.at,
            "customer_key": self.customer_key,
            "platform": self.platform,
            "case_id": self.case_id,
            "mention_key": self.mention_key,
            "region": self.region,
            "incident_id": self.incident_id,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Member:
        return cls(
            key=data["key"],
            kind=data["kind"],
            department=data["department"],
            words=frozenset(data.get("words", [])),
            at=float(data["at"]),
            customer_key=data["customer_key"],
            platform=data["platform"],
            case_id=data.get("case_id"),
            mention_key=data.get("mention_key"),
            region=data.get("region"),
            incident_id=data.get("incident_id"),
        )


@dataclass
class Cost:
    """What the index asked of its store: round trips and items, for the benchmark and metrics."""

    counts: Counter = field(default_factory=Counter)

    def add(self, requests: int = 0, read: int = 0, written: int = 0) -> None:
        self.counts["requests"] += requests
        self.counts["items_read"] += read
        self.counts["items_written"] += written


class Index(Protocol):
    cost: Cost

    def buckets(self, department: str, bands: list[str]) -> dict[str, list[tuple[str, float]]]: ...
    def signatures(self, keys: list[str]) -> dict[str, Member]: ...
    def add(
        self, member: Member, bands: list[str], buckets: dict[str, list[tuple[str, float]]], ttl_s: int
    ) -> None: ...
    def set_incident(self, keys: list[str], incident_id: str | None) -> None: ...


class MemoryIndex:
    """The same contract as DynamoIndex, in a dict; counts the requests DynamoIndex would make."""

    def __init__(self, bucket_cap: int = 200) -> None:
        self.bucket_cap = bucket_cap
        self._buckets: dict[str, list[tuple[str, float]]] = {}
        self._sigs: dict[str, Member] = {}
        self.cost = Cost()

    def buckets(self, department: str, bands: list[str]) -> dict[str, list[tuple[str, float]]]:
        self.cost.add(requests=1, read=len(bands))
        return {b: list(self._buckets.get(f"{department}#{b}", [])) for b in bands}

    def signatures(self, keys: list[str]) -> dict[str, Member]:
        if keys:
            self.cost.add(requests=1, read=len(keys))
        return {k: self._sigs[k] for k in keys if k in self._sigs}

    def add(self, member: Member, bands: list[str], trim: dict[str, list[tuple[str, float]]], ttl_s: int) -> None:
        self.cost.add(requests=-(-(1 + len(bands)) // 25), written=1 + len(bands))
        self._sigs[member.key] = member
        for b in bands:
            entries = trim.get(b, [])[-(self.bucket_cap - 1) :]
            self._buckets[f"{member.department}#{b}"] = [*entries, (member.key, member.at)]

    def set_incident(self, keys: list[str], incident_id: str | None) -> None:
        for k in keys:
            self.cost.add(requests=1, written=1)
            if k in self._sigs:
                self._sigs[k].incident_id = incident_id


@contextmanager
def _busy_or_index_error() -> Iterator[None]:
    """A table that stays busy stays StoreBusyError (the router fails the record and the redelivery
    links the member); any other store error is the index's own."""
    try:
        yield
    except StoreBusyError:
        raise
    except StoreError as exc:
        raise IndexError_(str(exc)) from exc


class DynamoIndex:
    def __init__(self, store: Store, bucket_cap: int = 200) -> None:
        self.store = store
        self.ddb = store.ddb
        self.table = store.table
        self.bucket_cap = bucket_cap
        self.cost = Cost()

    @staticmethod
    def _bucket_key(department: str, band: str) -> dict[str, Any]:
        return {"PK": {"S": f"LSH#{department}#{band}"}, "SK": {"S": "B"}}

    @staticmethod
    def _pack(entries: list[tuple[str, float]]) -> str:
        """A bucket as one string attribute, not a list of maps: about a third of the bytes (a write
        unit is 1 KB, so a capped bucket stays one unit) and one value to (de)serialise."""
        return "\n".join(f"{int(t)} {k.replace(chr(10), ' ')}" for k, t in entries)

    @staticmethod
    def _unpack(value: Any) -> list[tuple[str, float]]:
        if isinstance(value, list):  # buckets written before packing, until their TTL passes
            return [(e["k"], float(e["t"])) for e in value]
        out = []
        for line in str(value or "").split("\n"):
            t, _, k = line.partition(" ")
            if k:
                out.append((k, float(t)))
        return out

    @staticmethod
    def _sig_key(key: str) -> dict[str, Any]:
        return {"PK": {"S": f"INCSIG#{key}"}, "SK": {"S": "SIG"}}

    def _batch_get(self, keys: list[dict[str, Any]], *, consistent: bool = False) -> list[dict[str, Any]]:
        """Every item asked for that exists. A key DynamoDB keeps leaving unprocessed raises
        StoreBusyError: read as absent, its bucket would be written back without its members."""
        with _busy_or_index_error():
            found = self.store.batch_get_all(
                keys, consistent=consistent, counted=lambda n: self.cost.add(requests=1, read=n)
            )
        return [from_item(i) for i in found]

    def buckets(self, department: str, bands: list[str]) -> dict[str, list[tuple[str, float]]]:
        # Strongly consistent: add() writes these buckets back, and a read that missed a member added a
        # moment ago (a burst of one incident's mentions) would drop it from every band they share.
        items = self._batch_get([self._bucket_key(department, b) for b in bands], consistent=True)
        prefix = f"LSH#{department}#"
        return {i["PK"].removeprefix(prefix): self._unpack(i.get("m")) for i in items}

    def signatures(self, keys: list[str]) -> dict[str, Member]:
        if not keys:
            return {}
        items = self._batch_get([self._sig_key(k) for k in keys])
        return {i["key"]: Member.from_data(i) for i in items}

    def add(self, member: Member, bands: list[str], trim: dict[str, list[tuple[str, float]]], ttl_s: int) -> None:
        """Writes the signature and every band's bucket (the entries just read, trimmed to the window
        and cap, plus this member) in one BatchWriteItem. Last writer wins: two routers adding to the
        same bucket at the same instant may drop one entry of one band, and the member is still found
        through its other bands. No transaction, no conflicts, one write unit per item."""
        expires = int(member.at + ttl_s)
        sig = {"PK": f"INCSIG#{member.key}", "SK": "SIG", **member.to_data(), "expires_at": expires}
        items = [to_item(sig)]
        for b in bands:
            kept = [*trim.get(b, [])[-(self.bucket_cap - 1) :], (member.key, member.at)]
            items.append(
                to_item({"PK": f"LSH#{member.department}#{b}", "SK": "B", "m": self._pack(kept), "expires_at": expires})
            )
        with _busy_or_index_error():
            self.store.batch_put(items, counted=lambda n: self.cost.add(requests=1, written=n))

    def set_incident(self, keys: list[str], incident_id: str | None) -> None:
        for k in keys:
            expr = "SET incident_id = :i" if incident_id else "REMOVE incident_id"
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "Key": self._sig_key(k),
                "UpdateExpression": expr,
                "ConditionExpression": "attribute_exists(PK)",
            }
            if incident_id:
                kwargs["ExpressionAttributeValues"] = {":i": {"S": incident_id}}
            try:
                self.ddb.update_item(**kwargs)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise IndexError_(str(exc)) from exc
            self.cost.add(requests=1, written=1)
