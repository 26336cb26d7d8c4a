"""Builders shared by the connector tests: fixtures on disk, in-memory ports, a poll helper."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from socialcare.ingest.http import Deadline
from socialcare.ingest.poller import PollResult, poll_source
from socialcare.ingest.sinks import MemoryDeadLetterSink, MemoryMentionSink, MemorySeenIndex
from socialcare.ingest.state import MemoryCursorStore
from socialcare.sources import SourceConfig

# Fake credentials for loopback servers and replayed responses.
TOKEN = "test-token"  # noqa: S105
ROTATED_TOKEN = "rotated-token"  # noqa: S105

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "fixtures"


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def fixture_json(name: str) -> Any:
    return json.loads(fixture_text(name))


class FakeClock:
    """Wall clock for rate-limit resets that only moves when the code under test sleeps."""

    def __init__(self, now: float = 1_795_000_000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class RecordingMetrics:
    """The poller's metrics port, counting what it adds."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        self.counts[name] += int(value)


@dataclass
class Harness:
    """One source's ports, kept across polls so the cursor and dedup carry over like in production."""

    source: SourceConfig
    secret: str | None = TOKEN
    store: MemoryCursorStore = field(default_factory=MemoryCursorStore)
    sink: MemoryMentionSink = field(default_factory=MemoryMentionSink)
    seen: MemorySeenIndex = field(default_factory=MemorySeenIndex)
    dead: MemoryDeadLetterSink = field(default_factory=MemoryDeadLetterSink)
    clock: FakeClock | None = None
    session: requests.Session = field(default_factory=requests.Session)

    def poll(self, *, budget_s: float = 30.0, max_inline_wait_s: float = 0.0, **kwargs: Any) -> PollResult:
        extra: dict[str, Any] = {}
        if self.clock is not None:
            extra = {"clock": self.clock, "sleep": self.clock.sleep}
        return poll_source(
            self.source,
            self.session,
            self.store,
            self.sink,
            Deadline(budget_s),
            seen=self.seen,
            dead_letters=self.dead,
            secrets=lambda ref: self.secret or "",
            max_inline_wait_s=max_inline_wait_s,
            keep_new=True,
            **extra,
            **kwargs,
        )

    @property
    def cursor(self) -> dict[str, Any]:
        return self.store.load(self.source.id).cursor

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.sink.mentions]
