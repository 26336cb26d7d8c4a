"""The connector port: turn a platform's pages into Mentions plus the cursor that covers them.

A connector never stores anything. It yields pages in order; each page carries the cursor to save
once that page, and every page before it, is safely queued. The poller does the saving.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError

from socialcare.ingest.errors import IngestError, PagingLoopError, StaleCursorError
from socialcare.models import Mention


@dataclass(frozen=True)
class DeadItem:
    """One item (or whole body) the connector could not read, kept verbatim for the dead-letter queue."""

    reason: str
    raw: Any


@dataclass
class Page:
    mentions: list[Mention]
    cursor: dict[str, Any]
    dead: list[DeadItem] = field(default_factory=list)


class Connector(Protocol):
    platform: str

    def pages(self, cursor: dict[str, Any]) -> Iterator[Page]:
        """Pages newer than `cursor`, each with the cursor to store once it is queued."""
        ...


# Returns the secret value for a parameter reference ("secretsmanager:name" / "ssm:name").
SecretLoader = Callable[[str], str]


def normalise_items(items: list[Any], build: Callable[[Any], Mention | None]) -> tuple[list[Mention], list[DeadItem]]:
    """Build a Mention per item; an item that does not fit goes to the dead letters, the rest carry on."""
    mentions: list[Mention] = []
    dead: list[DeadItem] = []
    for item in items:
        try:
            mention = build(item)
        except (
            KeyError,
            TypeError,
            ValueError,
            AttributeError,
            ArithmeticError,
            RecursionError,
            ValidationError,
            IngestError,
        ) as exc:  # ArithmeticError: e.g. a timestamp of 1e300 or "Infinity"
            dead.append(DeadItem(reason=f"schema mismatch: {type(exc).__name__}: {str(exc)[:300]}", raw=item))
            continue
        if mention is not None:
            mentions.append(mention)
    return mentions, dead


class PageTokens:
    """The page tokens followed in one poll: a token handed back twice means the source is looping."""

    def __init__(self, first: Any = None) -> None:
        self._seen: set[str] = set() if first is None else {str(first)}

    def repeated(self, token: Any) -> bool:
        key = str(token)
        if key in self._seen:
            return True
        self._seen.add(key)
        return False

    def __len__(self) -> int:
        return len(self._seen)


def descending_run(
    cursor: dict[str, Any],
    fetch: Callable[[Any, Any], tuple[list[Mention], list[DeadItem], Any, Any, bool]],
) -> Iterator[Page]:
    """Page a newest-first listing down to the stored mark, saving resumable progress after each page.

    `fetch(mark, token)` returns (mentions, dead, newest_mark_on_page, next_token, reached_mark).
    The cursor keeps the old mark fixed while paging (`mark`), the page to resume from (`token`) and the
    newest mark seen in this run (`pending`); only when the run ends does `pending` become the mark.
    A crash or a rate limit mid-run resumes at the next unqueued page instead of starting over. A
    page token handed back twice ends the poll (PagingLoopError) once its page is kept.
    """
    mark = cursor.get("mark")
    token = cursor.get("token")
    pending = cursor.get("pending")
    tokens = PageTokens(token)
    while True:
        try:
            mentions, dead, newest, next_token, reached = fetch(mark, token)
        except StaleCursorError:
            if not token:
                raise
            # An expired page token: start the run again from the stored mark; dedup drops the repeats.
            token, pending, tokens = None, None, PageTokens()
            continue
        if pending is None and newest is not None:
            pending = newest
        if next_token and not reached and tokens.repeated(next_token):
            # A source that hands back a token already followed would be paged until the time budget
            # runs out. This page is kept; the next poll starts the run again from the old mark (the
            # pages beyond the loop may be reachable then; dedup drops what was already queued).
            yield Page(mentions, {"mark": mark, "token": None, "pending": None}, dead)
            raise PagingLoopError(f"the source repeated a page token after {len(tokens)} distinct ones")
        if next_token and not reached:
            yield Page(mentions, {"mark": mark, "token": next_token, "pending": pending}, dead)
            token = next_token
            continue
        final = pending if pending is not None else mark
        yield Page(mentions, {"mark": final, "token": None, "pending": None}, dead)
        return


ConnectorFactory = Callable[..., Connector]
