"""A JSONL replay source: mentions from a file (an export, a backfill, a recorded incident) go into
the same mentions queue as the pollers', so they take the same path: dedup, classify, route.

Each line is a Mention as JSON (what the queue carries), or, with a converter, another shape (the
CLI converts the demo's sample posts through the real X connector). A line that is not valid JSON or
not a valid Mention is reported with its line number and the field at fault, and never queued; the
rest of the file still is. With a seen-index, mentions the stack already has (or the file repeats)
are counted as duplicates and not queued again; the router drops any that slip through.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from socialcare.ingest.sinks import MentionSink
from socialcare.models import Mention


@dataclass
class ReplayResult:
    queued: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _reason(exc: Exception) -> str:
    """What is wrong with a line, field first: `author.handle: Field required`."""
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors()[:3]:
            where = ".".join(str(p) for p in error["loc"])
            parts.append(f"{where}: {error['msg']}" if where else str(error["msg"]))
        return "; ".join(parts)
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON: {exc.msg} at column {exc.colno}"
    if isinstance(exc, KeyError):
        return f"{exc.args[0]}: field required"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"


def read_mentions(
    lines: Iterable[str], convert: Callable[[dict[str, Any]], Mention] | None = None
) -> tuple[list[Mention], list[tuple[int, str]]]:
    """Mentions and (line number, reason) for each rejected line. `convert` takes a line that is a
    JSON object without a `platform` key (another shape than Mention)."""
    mentions: list[Mention] = []
    rejected: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if convert is not None and isinstance(data, dict) and "platform" not in data:
                mentions.append(convert(data))
            else:
                mentions.append(Mention.model_validate(data))
        except (ValueError, ValidationError, RecursionError, KeyError, TypeError) as exc:
            rejected.append((number, _reason(exc)))
    return mentions, rejected


def replay(
    lines: Iterable[str],
    sink: MentionSink,
    *,
    batch: int = 100,
    seen: Any = None,
    convert: Callable[[dict[str, Any]], Mention] | None = None,
) -> ReplayResult:
    mentions, rejected = read_mentions(lines, convert)
    result = ReplayResult(rejected=rejected)
    for start in range(0, len(mentions), batch):
        chunk = mentions[start : start + batch]
        if seen is not None:
            chunk, repeats = seen.unseen(chunk)
            result.duplicates += repeats
        if chunk:
            sink.send(chunk)
            if seen is not None:
                seen.remember(chunk)
        result.queued += len(chunk)
    return result
