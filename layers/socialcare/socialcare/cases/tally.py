"""Parity figures kept as cases close: per follower band and per channel, a few counters and two
response-time histograms on one item each, written in the same transaction that resolves the case.
The parity report reads these items (one query), never the cases: its cost does not grow with the
table."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from socialcare.models import Case

PK = "PARITY"
# Response-time histogram buckets grow by 10% on (seconds + 1): a median read from them is within 5% of
# the exact one plus one second (sub-second times are kept as well as whole ones, not to 5% of themselves).
RATIO = 1.1


def band_labels(bounds: list[int]) -> list[str]:
    def short(n: int) -> str:
        return (
            f"{n // 1_000_000}M"
            if n >= 1_000_000 and n % 1_000_000 == 0
            else (f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n))
        )

    labels, low = [], 0
    for high in bounds:
        labels.append(f"{short(low)}-{short(high)}")
        low = high
    labels.append(f"{short(low)}+")
    return labels


def band_of(followers: int | None, bounds: list[int]) -> str:
    labels = band_labels(bounds)
    n = followers or 0
    for label, high in zip(labels, bounds, strict=False):
        if n < high:
            return label
    return labels[-1]


def bucket(seconds: float) -> int:
    return int(math.log(max(0.0, seconds) + 1.0, RATIO))


def bucket_value(index: int) -> float:
    """The geometric middle of a bucket, in seconds."""
    return RATIO ** (index + 0.5) - 1.0


def closure_ops(case: Case, resolved_at: datetime, bounds: list[int]) -> list[dict[str, Any]]:
    """The tally updates for one case closing: its follower band's item and its channel's item."""
    adds = ["cases :one", "met :met", f"rs_{bucket((resolved_at - case.opened_at).total_seconds())} :one"]
    if case.first_responded_at is not None:
        adds.append(f"fr_{bucket((case.first_responded_at - case.opened_at).total_seconds())} :one")
    values = {":one": {"N": "1"}, ":met": {"N": "1" if case.breaches == 0 else "0"}}
    return [
        {
            "Update": {
                "Key": {"PK": {"S": PK}, "SK": {"S": sk}},
                "UpdateExpression": "ADD " + ", ".join(adds),
                "ExpressionAttributeValues": values,
            }
        }
        for sk in (f"BAND#{band_of(case.author.followers, bounds)}", f"CHANNEL#{case.platform}")
    ]


def median(histogram: dict[int, int]) -> float | None:
    total = sum(histogram.values())
    if total == 0:
        return None
    seen = 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen * 2 >= total:
            return round(bucket_value(index), 2)
    return None


def row(item: dict[str, Any] | None) -> dict[str, Any]:
    """One band's or channel's figures from its tally item (a plain dict, numbers as int)."""
    item = item or {}
    cases, met = int(item.get("cases", 0)), int(item.get("met", 0))
    hist = {"fr": {}, "rs": {}}
    for name, value in item.items():
        prefix, _, index = name.partition("_")
        if prefix in hist and index.isdigit():
            hist[prefix][int(index)] = int(value)
    return {
        "cases": cases,
        "sla_met_pct": round(100.0 * met / cases, 1) if cases else None,
        "first_response_p50_s": median(hist["fr"]),
        "resolution_p50_s": median(hist["rs"]),
    }


def read(store: Any) -> list[dict[str, Any]]:
    """Every tally item: one query on one partition (a few items, whatever the number of cases)."""
    from socialcare.store import from_item

    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": store.table,
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": PK}},
        "ConsistentRead": True,
    }
    while True:
        page = store.ddb.query(**kwargs)
        items.extend(from_item(i) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
