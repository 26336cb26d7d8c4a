"""Parity report cost against the number of cases: the tally (kept as cases close) against the scan
it replaced. Simulated closures (no AWS): the tally updates the resolve transaction would write are
applied to an in-memory table, then the report is built the way the ReportParity function builds it,
counting DynamoDB requests and items read."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from socialcare.cases import tally
from socialcare.config import ParitySettings
from socialcare.models import Author, Case
from socialcare.reports.parity import parity_from_tally
from socialcare.store import Store

SIZES = (100_000, 1_000_000)
CASE_ITEM_BYTES = 2_000  # a stored case item with its tags, SLA, clocks and workflow input
CASE_SHARE = 0.2  # case items among all items (events, messages, mentions, pointers share the table)


class TallyTable:
    """Just enough DynamoDB for the tally: ADD updates on tally items and a query on their partition."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.requests = 0
        self.items_read = 0

    def apply(self, op: dict[str, Any]) -> None:
        update = op["Update"]
        item = self.items.setdefault(update["Key"]["SK"]["S"], {"PK": {"S": tally.PK}, "SK": update["Key"]["SK"]})
        values = update["ExpressionAttributeValues"]
        for clause in update["UpdateExpression"].removeprefix("ADD ").split(", "):
            name, placeholder = clause.split(" ")
            old = int(item.get(name, {"N": "0"})["N"])
            item[name] = {"N": str(old + int(values[placeholder]["N"]))}

    def query(self, **kwargs: Any) -> dict[str, Any]:
        self.requests += 1
        found = [i for i in self.items.values() if i["PK"]["S"] == kwargs["ExpressionAttributeValues"][":pk"]["S"]]
        self.items_read += len(found)
        return {"Items": found}


def _template() -> Case:
    """A closed case with just the fields the tally reads (built without validation: speed)."""
    opened = datetime(2026, 1, 1, tzinfo=UTC)
    return Case.model_construct(
        id="SC-BENCH",
        platform="x",
        author=Author(id="u", handle="h", followers=10),
        opened_at=opened,
        first_responded_at=None,
        breaches=0,
    )


def run() -> None:
    settings = ParitySettings()
    rng = random.Random(11)
    base = _template()
    print(
        f"{'cases closed':>13}{'tally: requests':>17}{'items read':>12}{'report ms':>11}"
        f"{'scan: items read':>18}{'scan RCU (ev.)':>16}"
    )
    for size in SIZES:
        table = TallyTable()
        started = time.perf_counter()
        for _ in range(size):
            case = base.model_copy(
                update={
                    "platform": rng.choice(["x", "facebook", "instagram", "reddit", "bluesky"]),
                    "author": Author.model_construct(id="u", handle="h", followers=int(rng.paretovariate(1.2) * 50)),
                    "breaches": 0 if rng.random() < 0.9 else 1,
                    "first_responded_at": base.opened_at + timedelta(seconds=rng.expovariate(1 / 600)),
                }
            )
            for op in tally.closure_ops(
                case, base.opened_at + timedelta(seconds=rng.expovariate(1 / 20_000)), settings.bands
            ):
                table.apply(op)
        fill_s = time.perf_counter() - started
        started = time.perf_counter()
        report = parity_from_tally(tally.read(Store(table, "bench")), settings)
        report_ms = (time.perf_counter() - started) * 1000
        assert sum(r["cases"] for r in report["bands"].values()) == size
        scanned = int(size / CASE_SHARE)  # a scan filters after reading: it pays for every item in the table
        scan_rcu = int(scanned * CASE_ITEM_BYTES / 4096 / 2)
        print(
            f"{size:>13,}{table.requests:>17}{table.items_read:>12}{report_ms:>11.2f}{scanned:>18,}{scan_rcu:>16,}"
            f"   (simulated closures applied in {fill_s:.0f}s)"
        )
