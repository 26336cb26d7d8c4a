"""Normalised word sets, MinHash signatures, LSH band keys and the similarity that verifies a candidate.

Pure Python and deterministic across processes (no built-in hash()), so a signature computed in one
Lambda matches the buckets written by another.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

_URL = re.compile(r"https?://\S+")
_HANDLE = re.compile(r"[@#]\w+")
_WORD = re.compile(r"[a-z][a-z'\-]*[a-z]|[a-z]")
_MERSENNE = (1 << 61) - 1

STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "cannot",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "either",
        "every",
        "few",
        "for",
        "from",
        "further",
        "get",
        "gets",
        "got",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "still",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yet",
        "im",
        "ive",
        "id",
        "dont",
        "didnt",
        "doesnt",
        "isnt",
        "wasnt",
        "cant",
        "wont",
        "couldnt",
        "shouldnt",
        "youre",
        "theyre",
        "thats",
        "whats",
        "theres",
        "anyone",
        "everyone",
        "someone",
        "anybody",
        "nobody",
        "one",
        "two",
        "three",
        "again",
        "already",
        "even",
        "ever",
        "really",
        "right",
        "now",
        "today",
        "tonight",
        "tomorrow",
        "morning",
        "evening",
        "minutes",
        "minute",
        "hours",
        "hour",
        "time",
        "times",
        "since",
        "like",
        "literally",
        "actually",
        "honestly",
        "seriously",
        "guys",
        "ok",
        "okay",
        "yes",
        "oh",
        "lol",
        "ugh",
        "wow",
    ]
)

# Crude suffix stripping: enough to meet "delayed"/"delays"/"delay" in one word, no dictionary.
_SUFFIXES = ("ingly", "edly", "ing", "ies", "ied", "ed", "es", "s", "ly")


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            if suffix in {"ies", "ied"}:
                stem += "y"
            elif suffix in {"ing", "ed"} and stem[-1] == stem[-2] and stem[-1] not in "lsz":
                stem = stem[:-1]  # logging -> log, stopped -> stop
            return stem
    return word


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = _URL.sub(" ", text)
    text = _HANDLE.sub(" ", text)
    return text.replace("’", "'").replace("-", " ")


def words(text: str, ignore: Iterable[str] = (), synonyms: dict[str, str] | None = None) -> frozenset[str]:
    """The content words of a text, stemmed and mapped through the brand's synonyms ("website" and
    "app" are one channel, "crash" and "won't load" one symptom): what the problem is about, not how
    it was said."""
    skip = STOP_WORDS | {w.lower() for w in ignore}
    canon = {_stem(k.lower()): v.lower() for k, v in (synonyms or {}).items()}
    out = set()
    for raw in _WORD.findall(normalise(text)):
        w = raw.replace("'", "")
        if len(w) < 2 or w in skip:
            continue
        stem = _stem(w)
        stem = canon.get(stem, canon.get(w, stem))
        if stem not in skip:
            out.add(stem)
    return frozenset(out)


@lru_cache(maxsize=8)
def _permutations(num_perm: int) -> tuple[tuple[int, int], ...]:
    perms = []
    for i in range(num_perm):
        digest = hashlib.sha256(f"socialcare-minhash-{i}".encode()).digest()
        a = int.from_bytes(digest[:8], "big") % (_MERSENNE - 1) + 1
        b = int.from_bytes(digest[8:16], "big") % _MERSENNE
        perms.append((a, b))
    return tuple(perms)


def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")


def minhash(word_set: Iterable[str], num_perm: int = 64) -> list[int]:
    hashes = [_word_hash(w) for w in word_set]
    if not hashes:
        return [_MERSENNE] * num_perm
    return [min((a * h + b) % _MERSENNE for h in hashes) for a, b in _permutations(num_perm)]


def band_keys(signature: list[int], rows: int) -> list[str]:
    """One short key per band; two signatures that agree on every row of a band share its bucket."""
    keys = []
    for band, start in enumerate(range(0, len(signature) - rows + 1, rows)):
        chunk = ",".join(str(v) for v in signature[start : start + rows])
        keys.append(f"{band:02d}#{hashlib.blake2b(chunk.encode(), digest_size=6).hexdigest()}")
    return keys


def cosine(a: frozenset[str] | set[str], b: frozenset[str] | set[str]) -> float:
    """Cosine over binary word vectors (the Ochiai coefficient): forgiving of length differences."""
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))
