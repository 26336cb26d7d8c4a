"""Training a model artifact from labelled JSONL. Runs on a workstation or in CI, never in a Lambda.

scikit-learn (a dev dependency) fits the logistic regressions; what it learns is exported into the
pure-Python artifact of ``socialcare.classify.model``. Features come from
``socialcare.classify.features``, the same code that inference runs.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from socialcare.classify.base import ClassifierError
from socialcare.classify.features import char_words, tokens, word_features, word_grams
from socialcare.classify.model import Head, Model, dump, loads

LABELS = ("sentiment", "department", "intent", "actionable", "urgency")


@dataclass(frozen=True)
class HeadParams:
    c: float = 5.0
    word_min_df: int = 1
    char_min_df: int = 2
    class_weight: str | None = None


@dataclass
class TrainParams:
    heads: dict[str, HeadParams] = field(default_factory=dict)
    # Per-class offsets added to the logits after fitting, e.g. from `tune_biases`.
    bias_offsets: dict[str, dict[str, float]] = field(default_factory=dict)

    def for_head(self, name: str) -> HeadParams:
        return self.heads.get(name, HeadParams())


def label_of(record: dict[str, Any], name: str) -> str | None:
    """The record's label for ``name`` as a string, or None when it has none."""
    value = record.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip().lower()


@dataclass
class _Doc:
    words: Counter[str]
    n_words: int
    chars: Counter[str]
    n_chars: int


def featurise(text: str) -> _Doc:
    toks = tokens(text if isinstance(text, str) else "")
    feats = word_features(toks)
    chars: Counter[str] = Counter()
    for w in char_words(toks):
        chars.update(word_grams(w))
    return _Doc(Counter(feats), len(feats), chars, sum(chars.values()))


def _sklearn() -> Any:
    try:
        import numpy as np
        import scipy.sparse as sp
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # pragma: no cover - dev extra is installed wherever training runs
        raise ClassifierError("training needs scikit-learn: pip install -e '.[dev]'") from exc
    return np, sp, LogisticRegression


class _Block:
    """One feature block (words or char n-grams): vocabulary, idf and the scaled sparse matrix."""

    def __init__(self, docs: Sequence[_Doc], attr: str, min_df: int) -> None:
        df: Counter[str] = Counter()
        for d in docs:
            df.update(getattr(d, attr).keys())
        self.vocab = {f: j for j, f in enumerate(sorted(f for f, n in df.items() if n >= min_df))}
        n = len(docs)
        self.idf = [0.0] * len(self.vocab)
        for f, j in self.vocab.items():
            self.idf[j] = math.log((1 + n) / (1 + df[f])) + 1.0
        self.attr = attr

    def matrix(self, docs: Sequence[_Doc]) -> Any:
        np, sp, _ = _sklearn()
        rows, cols, vals = [], [], []
        total_attr = "n_words" if self.attr == "words" else "n_chars"
        for i, d in enumerate(docs):
            total = getattr(d, total_attr)
            if not total:
                continue
            s = 1.0 / math.sqrt(total)
            for f, c in getattr(d, self.attr).items():
                j = self.vocab.get(f)
                if j is not None:
                    rows.append(i)
                    cols.append(j)
                    vals.append(c * self.idf[j] * s)
        return sp.csr_matrix((np.array(vals), (rows, cols)), shape=(len(docs), len(self.vocab)))


@dataclass
class FittedHead:
    name: str
    classes: list[str]
    bias: list[float]
    word: dict[str, list[float]]  # feature -> weights (idf folded in), one per class
    char: dict[str, list[float]]


def fit_head(name: str, docs: Sequence[_Doc], labels: Sequence[str], params: HeadParams) -> FittedHead:
    np, sp, LogisticRegression = _sklearn()
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ClassifierError(f"label {name!r} needs at least two classes to train, got {classes}")
    wb = _Block(docs, "words", params.word_min_df)
    cb = _Block(docs, "chars", params.char_min_df)
    x = sp.hstack([wb.matrix(docs), cb.matrix(docs)]).tocsr()
    clf = LogisticRegression(C=params.c, max_iter=3000, class_weight=params.class_weight)
    clf.fit(x, np.array(labels))
    coef, intercept = clf.coef_, clf.intercept_
    if len(classes) == 2:  # one weight vector: softmax over [0, w] is the same sigmoid
        coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
        intercept = np.array([0.0, intercept[0]])
    n_word = len(wb.vocab)
    word = {f: list(coef[:, j] * wb.idf[j]) for f, j in wb.vocab.items()}
    char = {f: list(coef[:, n_word + j] * cb.idf[j]) for f, j in cb.vocab.items()}
    return FittedHead(name, [str(c) for c in clf.classes_], [float(b) for b in intercept], word, char)


def assemble(fitted: list[FittedHead], offsets: dict[str, dict[str, float]], meta: dict[str, Any]) -> bytes:
    """Merge fitted heads into one artifact: a shared vocabulary, int16 weights per class column."""
    heads: list[Head] = []
    offset = 0
    for fh in fitted:
        extra = offsets.get(fh.name, {})
        bias = tuple(b + extra.get(c, 0.0) for b, c in zip(fh.bias, fh.classes, strict=True))
        heads.append(Head(fh.name, tuple(fh.classes), bias, offset))
        offset += len(fh.classes)
    width = offset

    def merged(attr: str) -> dict[str, list[float]]:
        table: dict[str, list[float]] = {}
        for fh, h in zip(fitted, heads, strict=True):
            for f, ws in getattr(fh, attr).items():
                row = table.setdefault(f, [0.0] * width)
                row[h.offset : h.offset + h.width] = ws
        return table

    word, char = merged("word"), merged("char")
    peak = [1e-12] * width
    for table in (word, char):
        for row in table.values():
            for j, v in enumerate(row):
                peak[j] = max(peak[j], abs(v))
    scales = [p / 32767.0 for p in peak]

    def quantise(table: dict[str, list[float]]) -> tuple[list[str], array]:
        vocab, out = [], array("h")
        for f in sorted(table):
            q = [round(v / s) for v, s in zip(table[f], scales, strict=True)]
            if any(q):  # a feature whose weights all round to zero changes nothing
                vocab.append(f)
                out.extend(q)
        return vocab, out

    wv, ww = quantise(word)
    cv, cw = quantise(char)
    return dump(heads, wv, cv, ww, cw, scales, meta)


def train(
    records: Iterable[dict[str, Any]],
    params: TrainParams | None = None,
    *,
    labels: Sequence[str] = LABELS,
    meta: dict[str, Any] | None = None,
) -> bytes:
    """Fit one head per label found in ``records`` and return the artifact bytes."""
    params = params or TrainParams()
    recs = [r for r in records if isinstance(r, dict)]
    docs = [featurise(r.get("text", "")) for r in recs]
    fitted = []
    counts: dict[str, int] = {}
    for name in labels:
        pairs = [(d, lab) for d, r in zip(docs, recs, strict=True) if (lab := label_of(r, name)) is not None]
        if not pairs:
            continue
        counts[name] = len(pairs)
        fitted.append(fit_head(name, [p[0] for p in pairs], [p[1] for p in pairs], params.for_head(name)))
    if not fitted:
        raise ClassifierError(f'no labelled rows: each line needs "text" and one of {list(labels)}')
    return assemble(fitted, params.bias_offsets, {**(meta or {}), "trained_rows": counts})


def train_model(records: Iterable[dict[str, Any]], params: TrainParams | None = None, **kw: Any) -> Model:
    return loads(train(records, params, **kw), source="<trained>")
