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
