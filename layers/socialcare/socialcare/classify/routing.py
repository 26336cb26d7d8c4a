"""Day-one department routing: no labelled data, only what the brand configuration says.

Each department is described by its name, description, keywords and example messages. Those words are
turned into a profile of character n-grams (the same n-grams the model reads, so "factura",
"facture" and "fattura" share most of theirs), weighted by how specific each n-gram is to one
department. A mention is scored against every profile by cosine similarity and the brand's keywords
add a fixed bonus per hit, as the rules back end counts them. Scores are cached per word, so a
mention costs a few dictionary look-ups per word.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import TYPE_CHECKING

from socialcare.classify.base import ClassifierError
from socialcare.classify.features import char_words, tokens
from socialcare.classify.language import STOPWORDS

if TYPE_CHECKING:
    from socialcare.config import BrandConfig

# n-gram lengths for profiles: 2-grams are shared by nearly every word, so they only add noise here.
_GRAMS = (3, 4, 5)
_MAX_WORD = 24
# Field weights in a profile: what the brand chose to say about a department most deliberately
# (its name and keywords) counts more than the words around it in a description or an example.
_W_NAME, _W_KEYWORD, _W_DESCRIPTION, _W_EXAMPLE = 2.0, 2.0, 1.0, 1.0
# A keyword hit adds this much to a cosine similarity (0..1); tuned on the airline data with the
# sample airline's configuration (never on the sample brands' routing set).
KEYWORD_BONUS = 0.12
# Softmax temperature turning blended scores into a confidence.
_TEMPERATURE = 0.08
_CACHE_LIMIT = 50_000
_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
_IGNORED = frozenset().union(*STOPWORDS.values())


def _grams(word: str) -> list[str]:
    padded = " " + word[:_MAX_WORD] + " "
    return [padded[i : i + n] for n in _GRAMS for i in range(len(padded) - n + 1)]


def _content_words(words: list[str]) -> list[str]:
    """Words that can say what a mention is about: no stop words or 1-2 letter tokens."""
    return [w for w in words if len(w) > 2 and w not in _IGNORED and w != "httpurl"]


def text_words(text: str) -> list[str]:
    """A text's lower-cased words without handles or links, as the model splits them."""
    return char_words(tokens(text))


def missing_descriptions(config: BrandConfig) -> list[str]:
    """Departments with neither a description nor example messages: day-one routing cannot place them."""
    return [d.name for d in config.departments if not d.description.strip() and not d.examples]


class ZeroShotRouter:
    """Departments by similarity to each department's own words, blended with keyword hits."""

    def __init__(self, config: BrandConfig) -> None:
        missing = missing_descriptions(config)
        if missing:
            raise ClassifierError(
                f"brand {config.brand!r}: departments {missing} have no description and no example "
                "messages; routing without a trained department model reads them, so add a "
                "description (one line on what the department handles) or a few example messages"
            )
        self.names = [d.name for d in config.departments]
        self.default = config.default_department
        profiles: list[Counter[str]] = []
        for d in config.departments:
            prof: Counter[str] = Counter()
            fields = [
                (d.name.replace("_", " "), _W_NAME),
                (d.description, _W_DESCRIPTION),
                *((k, _W_KEYWORD) for k in d.keywords),
                *((e, _W_EXAMPLE) for e in d.examples),
            ]
            for text, weight in fields:
                for w in _content_words(text_words(text)):
                    for g in _grams(w):
                        prof[g] += weight
            profiles.append(prof)
        # An n-gram in every profile says nothing about which department: idf over departments.
        df: Counter[str] = Counter()
        for prof in profiles:
            df.update(prof.keys())
        n = len(profiles)
        table: dict[str, list[float]] = {}
        for j, prof in enumerate(profiles):
            vec = {g: (1.0 + math.log(c)) * math.log(1.0 + n / df[g]) for g, c in prof.items()}
            norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
            for g, v in vec.items():
                table.setdefault(g, [0.0] * n)[j] = v / norm
        self._table = table
        self._cache: dict[str, tuple[tuple[float, ...], int] | tuple[()]] = {}
        # Keywords: single words (counted by a set intersection with the text's words, each naming
        # the departments it counts for) and phrases (looked for in the normalised text).
        self._singles: dict[str, list[tuple[int, int]]] = {}
        self._phrases: list[tuple[int, str]] = []
        for j, d in enumerate(config.departments):
            keys = [k.lower() for k in d.keywords if k.strip()]
            singles = Counter(k for k in keys if " " not in k and k.isalnum())
            for k, n in singles.items():
                self._singles.setdefault(k, []).append((j, n))
            self._phrases.extend((j, k) for k in keys if k not in singles)

    def _word(self, word: str) -> tuple[tuple[float, ...], int] | tuple[()]:
        """A word's summed profile n-grams and their number; ``()`` for a word that says nothing about
        a department (a stop word, 1-2 letters, a link); cached."""
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        if not _content_words([word]):
            self._cache[word] = ()
            return ()
        grams = _grams(word)
        n = len(self.names)
        acc = [0.0] * n
        table = self._table
        for g in grams:
            row = table.get(g)
            if row is not None:
                acc = [a + r for a, r in zip(acc, row, strict=True)]
        out = (tuple(acc), len(grams))
        self._cache[word] = out
        return out

    def scores(self, text: str, words: list[str] | None = None, clean: str | None = None) -> list[float]:
        """Blended score per department (cosine similarity plus keyword bonus), in ``names`` order.
        ``words`` and ``clean`` may pass the text's words and normalised form when already at hand."""
        if words is None:
            words = text_words(text)
        hits = list(map(self._cache.get, words))
        if None in hits:
            lookup = self._word
            hits = [lookup(w) if h is None else h for w, h in zip(words, hits, strict=True)]
        found = list(filter(None, hits))  # the content words' entries, in order
        total = [0.0] * len(self.names)
        if found:
            vectors, counts = zip(*found, strict=True)
            # Column sums in one pass (sum() is compensated since Python 3.12: as exact as word by word, or more).
            total = list(map(sum, zip(*vectors, strict=True)))
            inv = 1.0 / math.sqrt(sum(counts))
            total = [t * inv for t in total]
        if clean is None:
            from socialcare.classify.rules import normalise

            clean = normalise(text)
        keyword_hits = [0] * len(self.names)
        singles = self._singles
        for w in singles.keys() & set(_WORD_RE.findall(clean)):
            for j, n in singles[w]:
                keyword_hits[j] += n
        for j, k in self._phrases:
            keyword_hits[j] += k in clean
        for j, n in enumerate(keyword_hits):
            if n:
                total[j] += KEYWORD_BONUS * n
        return total

    def route(
        self, text: str, words: list[str] | None = None, clean: str | None = None
    ) -> tuple[str, float, dict[str, float]]:
        """The best department, its confidence and every department's probability. A mention with
        nothing to go on gets the default department with low confidence."""
        s = self.scores(text, words, clean)
        top = max(s)
        if top <= 0.0:
            n = len(self.names)
            return self.default, round(1.0 / n, 4), dict.fromkeys(self.names, 1.0 / n)
        exps = [math.exp((v - top) / _TEMPERATURE) for v in s]
        z = sum(exps)
        probs = {name: e / z for name, e in zip(self.names, exps, strict=True)}
        best = self.names[s.index(top)]
        # Weak evidence (a single faint n-gram overlap) cannot be confident, whatever the softmax says.
        strength = min(1.0, top / 0.3)
        return best, probs[best] * strength, probs
