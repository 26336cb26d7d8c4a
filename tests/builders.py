"""Builders for test inputs, in one place."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from socialcare.models import Author, Mention

_ids = itertools.count(1_000)


def mention(text: str = "My bag is lost and nobody at the desk can help, please help", **kw: Any) -> Mention:
    n = next(_ids)
    author = kw.pop("author", None) or Author(
        id=kw.pop("author_id", f"u{n}"), handle=kw.pop("handle", f"customer{n}"), followers=kw.pop("followers", 10)
    )
    fields: dict[str, Any] = {
        "platform": "x",
        "id": str(n),
        "author": author,
        "text": text,
        "created_at": datetime.now(UTC),
        "lang": "en",
    }
    fields.update(kw)
    return Mention(**fields)


def meta_delivery_sent_at(payload: dict[str, Any], now: float) -> dict[str, Any]:
    """A recorded Meta webhook delivery re-timed as if sent at `now` (entry `time` and change
    `created_time` keep their offsets), so handlers that read the real clock accept it on any date."""
    sent = max(entry["time"] for entry in payload["entry"])
    shift = int(now) - sent

    def moved(entry: dict[str, Any]) -> dict[str, Any]:
        changes = [
            {**c, "value": {**c["value"], "created_time": c["value"]["created_time"] + shift}}
            if "created_time" in c.get("value", {})
            else c
            for c in entry.get("changes", [])
        ]
        return {**entry, "time": entry["time"] + shift, "changes": changes}

    return {**payload, "entry": [moved(e) for e in payload["entry"]]}
