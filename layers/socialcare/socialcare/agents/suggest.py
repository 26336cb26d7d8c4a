"""Suggested replies: the brand's FAQ / knowledge-base entries most similar to the case (TF-IDF
cosine similarity, pure Python). Offered to the agent; never sent automatically."""

from __future__ import annotations

import math
import re
from collections import Counter

from socialcare.config import FaqEntry

_WORD = re.compile(r"[a-z0-9']+")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "my",
        "me",
        "i",
        "is",
        "it",
        "was",
        "be",
        "are",
        "you",
        "your",
        "we",
        "our",
        "this",
        "that",
        "have",
        "has",
        "had",
        "not",
        "no",
        "do",
        "does",
        "did",
        "can",
        "could",
        "will",
        "would",
        "please",
        "just",
        "so",
        "from",
        "by",
        "as",
        "about",
    ]
)


def tokens(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1]


def _doc(entry: FaqEntry) -> list[str]:
    # Keywords count twice: the brand wrote them to be matched.
    return tokens(entry.question) + tokens(entry.answer) + 2 * [t for k in entry.keywords for t in tokens(k)]


def suggest(
    text: str,
    entries: list[FaqEntry],
    department: str | None = None,
    *,
    limit: int = 3,
    min_score: float = 0.1,
) -> list[tuple[FaqEntry, float]]:
    """Entries for this department (or for every department), best match first. IDF comes from the
    whole knowledge base; the query counts only words the knowledge base knows."""
    if not entries or not (query := tokens(text)):
        return []
    docs = [Counter(_doc(e)) for e in entries]
    n = len(docs)
    df = Counter(t for d in docs for t in d)

    def vector(counts: Counter) -> dict[str, float]:
        return {t: (1 + math.log(c)) * math.log((n + 1) / df[t]) for t, c in counts.items() if t in df}

    def cosine(a: dict[str, float], b: dict[str, float]) -> float:
        dot = sum(v * b.get(t, 0.0) for t, v in a.items())
        na, nb = math.sqrt(sum(v * v for v in a.values())), math.sqrt(sum(v * v for v in b.values()))
        return dot / (na * nb) if na and nb else 0.0

    q = vector(Counter(query))
    scored = [
        (e, round(cosine(q, vector(d)), 4))
        for e, d in zip(entries, docs, strict=True)
        if not e.departments or department is None or department in e.departments
    ]
    return sorted((s for s in scored if s[1] >= min_score), key=lambda s: -s[1])[:limit]
