"""A JSONL replay source: mentions from a file (an export, a backfill, a recorded incident) go into
the same mentions queue as the pollers', so they take the same path: dedup, classify, route.

Each line is a Mention as JSON (what the queue carries). A line that is not valid JSON or not a
valid Mention is reported with its line number and never queued; the rest of the file still is.
Replaying a file twice opens nothing twice: the router drops the duplicates.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError

from socialcare.ingest.sinks import MentionSink
from socialcare.models import Mention


@dataclass
class ReplayResult:
    queued: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def read_mentions(lines: Iterable[str]) -> tuple[list[Mention], list[tuple[int, str]]]:
    mentions: list[Mention] = []
    rejected: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            mentions.append(Mention.model_validate(json.loads(line)))
        except (ValueError, ValidationError, RecursionError) as exc:
            rejected.append((number, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"))
    return mentions, rejected


def replay(lines: Iterable[str], sink: MentionSink, *, batch: int = 100) -> ReplayResult:
    mentions, rejected = read_mentions(lines)
    result = ReplayResult(rejected=rejected)
    for start in range(0, len(mentions), batch):
        chunk = mentions[start : start + batch]
        sink.send(chunk)
        result.queued += len(chunk)
    return result
