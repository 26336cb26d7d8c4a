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

# Per head, the quantised weight (of 32,767) at or under which a feature counts as unused by it; a
# feature no head uses is dropped. The multilingual heads (sentiment, language) learn from ~30,000
# tweets and carry ~150,000 rare n-grams whose small weights move almost no prediction but cost
# load time; the brand and intent heads keep every feature.
PRUNE = {"sentiment": 1500, "language": 1500}
LABELS = ("sentiment", "department", "intent", "actionable", "urgency", "language")


@dataclass(frozen=True)
class HeadParams:
    c: float = 5.0
    word_min_df: int = 1
    char_min_df: int = 2
    class_weight: str | None = None
    # Average the multinomial fit with one-vs-rest fits on NB-scaled features (NBSVM-style log-count
    # ratios). Both are linear in the same features, so the average (in log-probability space) folds
    # into one weight matrix: no cost at inference.
    nb: bool = False
    nb_c: float = 1.0


# Chosen by cross-validation on the airline data (sentiment, department) and on the intent training
# set (the others: little data, so stronger fits, rarer char n-grams dropped, balanced classes).
DEFAULT_HEADS = {
    # Rare words and bigrams (seen once in 28,000 tweets in eight languages) only add size.
    "sentiment": HeadParams(c=5.0, nb=True, word_min_df=2),
    "department": HeadParams(c=5.0, nb=True),
    # NB averaging for intent: out of fold on 3,918 training mentions it gains in every language
    # (0.789 -> 0.800 intent, 0.896 -> 0.900 actionable F1); on the 1,245 of an earlier release it did not.
    # Words and bigrams seen once in the hand-written mentions are left out too: out of fold on 5,603
    # mentions intent and actionable gain (0.813 / 0.903 -> 0.819 / 0.907), and the artifact loses them.
    "intent": HeadParams(c=20.0, word_min_df=2, char_min_df=3, class_weight="balanced", nb=True),
    "actionable": HeadParams(c=20.0, word_min_df=2, char_min_df=3),
    "urgency": HeadParams(c=20.0, word_min_df=2, char_min_df=3, class_weight="balanced"),
    # Which language a post is in: character n-grams carry it, rare words add little but size.
    "language": HeadParams(c=10.0, word_min_df=3, char_min_df=3, class_weight="balanced"),
}

# A brand's own heads (one brand's mentions, tens of thousands of words at most) keep every word: the
# airline's grafted brand_sentiment head was trained so. Out-of-fold on the airline tweets with tuned
# offsets, sentiment reads 0.823 / 0.768 so and 0.815 / 0.761 with the multilingual head's cut.
BRAND_HEADS = {**DEFAULT_HEADS, "sentiment": HeadParams(c=5.0, nb=True)}


@dataclass
class TrainParams:
    heads: dict[str, HeadParams] = field(default_factory=lambda: dict(DEFAULT_HEADS))
    # Stacked heads read another head's probabilities (learned weights): intent and actionable use
    # sentiment, which is trained on far more data than a brand's intent examples.
    stack: dict[str, str] = field(default_factory=lambda: {"intent": "sentiment", "actionable": "sentiment"})
    stack_folds: int = 3
    # Per-class offsets added to the logits after fitting, e.g. from `tune_biases`.
    bias_offsets: dict[str, dict[str, float]] = field(default_factory=dict)
    # Heads whose per-class offsets are tuned by cross-validation for accuracy + macro-F1
    # (`socialcare train --tune sentiment,department`); folds for that search.
    tune: tuple[str, ...] = ()
    tune_folds: int = 5
    # Features left out of the artifact per head (see PRUNE); {} keeps every feature.
    prune: dict[str, int] = field(default_factory=lambda: dict(PRUNE))

    def for_head(self, name: str) -> HeadParams:
        return self.heads.get(name, HeadParams())


def label_of(record: dict[str, Any], name: str) -> str | None:
    """The record's label for ``name`` as a string, or None when it has none."""
    value = record.get(name)
    if name == "language" and not value:  # data sets call it "lang"
        value = record.get("lang")
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
    proba: Any = None  # docs -> class probabilities (training time only)


def fit_head(
    name: str,
    docs: Sequence[_Doc],
    labels: Sequence[str],
    params: HeadParams,
    extra: tuple[list[str], Any] | None = None,
) -> FittedHead:
    """One multinomial logistic regression; ``extra`` adds named dense columns (stacked inputs)."""
    np, sp, LogisticRegression = _sklearn()
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ClassifierError(f"label {name!r} needs at least two classes to train, got {classes}")
    wb = _Block(docs, "words", params.word_min_df)
    cb = _Block(docs, "chars", params.char_min_df)
    blocks = [wb.matrix(docs), cb.matrix(docs)]
    if extra is not None:
        blocks.append(sp.csr_matrix(extra[1]))
    x = sp.hstack(blocks).tocsr()
    clf = LogisticRegression(C=params.c, max_iter=3000, class_weight=params.class_weight)
    clf.fit(x, np.array(labels))
    coef, intercept = clf.coef_, clf.intercept_
    if len(classes) == 2:  # one weight vector: softmax over [0, w] is the same sigmoid
        coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
        intercept = np.array([0.0, intercept[0]])
    if params.nb and len(classes) > 2:
        nb_coef, nb_intercept = _nb_one_vs_rest(x, np.array(labels), clf.classes_, params.nb_c)
        coef, intercept = (coef + nb_coef) / 2, (intercept + nb_intercept) / 2
    n_word, n_char = len(wb.vocab), len(cb.vocab)
    word = {f: list(coef[:, j] * wb.idf[j]) for f, j in wb.vocab.items()}
    char = {f: list(coef[:, n_word + j] * cb.idf[j]) for f, j in cb.vocab.items()}
    if extra is not None:
        for k, f in enumerate(extra[0]):
            word[f] = list(coef[:, n_word + n_char + k])

    n_text = n_word + n_char

    def proba(new_docs: Sequence[_Doc]) -> Any:
        z = sp.hstack([wb.matrix(new_docs), cb.matrix(new_docs)]).tocsr() @ coef[:, :n_text].T + intercept
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    return FittedHead(name, [str(c) for c in clf.classes_], [float(b) for b in intercept], word, char, proba)


def _nb_one_vs_rest(x: Any, y: Any, classes: Any, c: float) -> tuple[Any, Any]:
    """Per class, a binary logistic regression on features scaled by their NB log-count ratio
    (Wang & Manning 2012), with the ratio folded back into the weights."""
    np, _, LogisticRegression = _sklearn()
    coefs, intercepts = [], []
    for cls in classes:
        pos = y == cls
        p = 1.0 + np.asarray(x[pos].sum(axis=0)).ravel()
        q = 1.0 + np.asarray(x[~pos].sum(axis=0)).ravel()
        ratio = np.log((p / p.sum()) / (q / q.sum()))
        clf = LogisticRegression(C=c, max_iter=3000).fit(x.multiply(ratio).tocsr(), pos)
        coefs.append(clf.coef_[0] * ratio)
        intercepts.append(clf.intercept_[0])
    return np.vstack(coefs), np.array(intercepts)


def _stacked_inputs(
    src: FittedHead,
    src_rows: list[int],
    src_labels: list[str],
    dep_rows: list[int],
    docs: Sequence[_Doc],
    params: TrainParams,
) -> Any:
    """Source-head probabilities for the dependent head's rows. Rows the source head was trained on
    get out-of-fold probabilities (cross-fitting), so the dependent head does not learn to trust
    over-confident in-sample predictions."""
    np, _, _ = _sklearn()
    out = np.asarray(src.proba([docs[i] for i in dep_rows]))
    in_src = {r: k for k, r in enumerate(src_rows)}
    shared = [k for k, r in enumerate(dep_rows) if r in in_src]
    folds = max(2, params.stack_folds)
    for f in range(folds):
        held = [k for k in shared if k % folds == f]
        if not held:
            continue
        held_rows = {dep_rows[k] for k in held}
        keep = [j for j, r in enumerate(src_rows) if r not in held_rows]
        fh = fit_head(
            src.name,
            [docs[src_rows[j]] for j in keep],
            [src_labels[j] for j in keep],
            params.for_head(src.name),
        )
        if fh.classes != src.classes:
            continue
        out[held] = np.asarray(fh.proba([docs[dep_rows[k]] for k in held]))
    return out


def assemble(
    fitted: list[FittedHead],
    offsets: dict[str, dict[str, float]],
    meta: dict[str, Any],
    prune: dict[str, int] | None = None,
) -> bytes:
    """Merge fitted heads into one artifact: a shared vocabulary, int16 weights per class column;
    features that no head uses (``prune``, default ``PRUNE``) are left out."""
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

    cut = PRUNE if prune is None else prune
    limits = [(h.offset, h.offset + h.width, cut.get(h.name, 0)) for h in heads]

    def quantise(table: dict[str, list[float]]) -> tuple[list[str], array]:
        vocab, out = [], array("h")
        for f in sorted(table):
            q = [round(v / s) for v, s in zip(table[f], scales, strict=True)]
            if f.startswith("P:") or any(max(map(abs, q[lo:hi])) > t for lo, hi, t in limits):
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
    # Offsets are searched on a head's own out-of-fold scores, which a head stacked on another's outputs
    # does not have: say so before minutes of fitting rather than skip the request.
    stacked = [name for name in params.tune if params.stack.get(name) in labels]
    if stacked:
        raise ClassifierError(
            f"cannot tune {stacked}: stacked on {sorted({params.stack[n] for n in stacked})}'s outputs; "
            f"tunable: {[n for n in labels if n not in params.stack]}"
        )
    recs = [r for r in records if isinstance(r, dict)]
    docs = [featurise(r.get("text", "")) for r in recs]
    fitted: dict[str, FittedHead] = {}
    rows_of: dict[str, tuple[list[int], list[str]]] = {}
    stack: dict[str, str] = {}
    stacked_cache: dict[tuple[str, tuple[int, ...]], Any] = {}
    for name in labels:
        rows = [(i, lab) for i, r in enumerate(recs) if (lab := label_of(r, name)) is not None]
        if not rows:
            continue
        idx, labs = [i for i, _ in rows], [lab for _, lab in rows]
        rows_of[name] = (idx, labs)
        extra = None
        src = params.stack.get(name)
        if src in fitted:
            s_idx, s_labs = rows_of[src]
            key = (src, tuple(idx))
            if key not in stacked_cache:  # intent and actionable usually share their rows
                stacked_cache[key] = _stacked_inputs(fitted[src], s_idx, s_labs, idx, docs, params)
            probs = stacked_cache[key]
            extra = ([f"P:{src}={c}" for c in fitted[src].classes], probs)
            stack[name] = src
        fitted[name] = fit_head(name, [docs[i] for i in idx], labs, params.for_head(name), extra)
    if not fitted:
        raise ClassifierError(f'no labelled rows: each line needs "text" and one of {list(labels)}')
    counts = {k: len(v[0]) for k, v in rows_of.items()}
    offsets = dict(params.bias_offsets)
    for name in params.tune:
        if name in rows_of and name not in stack and name not in offsets:
            idx, labs = rows_of[name]
            offsets[name] = tune_offsets([docs[i] for i in idx], labs, name, params)
    meta = {**(meta or {}), "trained_rows": counts, "stack": stack, "bias_offsets": offsets}
    return assemble(list(fitted.values()), offsets, meta, params.prune)


def oof_log_proba(docs: Sequence[_Doc], labels: Sequence[str], name: str, params: TrainParams) -> tuple[list[str], Any]:
    """The head's classes and its out-of-fold log-probabilities on its own training rows."""
    np, _, _ = _sklearn()
    from sklearn.model_selection import StratifiedKFold

    y = list(labels)
    classes = sorted(set(y))
    logp = np.zeros((len(y), len(classes)))
    splitter = StratifiedKFold(n_splits=params.tune_folds, shuffle=True, random_state=0)
    for train_idx, test_idx in splitter.split(np.zeros(len(y)), y):
        fh = fit_head(name, [docs[i] for i in train_idx], [y[i] for i in train_idx], params.for_head(name))
        if fh.classes != classes:
            continue
        logp[test_idx] = np.log(np.asarray(fh.proba([docs[i] for i in test_idx])) + 1e-12)
    return classes, logp


def best_offsets(logp: Any, labels: Sequence[str], classes: Sequence[str], name: str) -> dict[str, float]:
    """Per-class logit offsets that maximise accuracy + macro-F1 of ``logp + offsets`` (coordinate
    search, steps of 0.1 in [-1.5, 1.5]); all zero when nothing beats the plain argmax."""
    np, _, _ = _sklearn()
    from socialcare.classify.metrics import report

    y = list(labels)

    def score(offset: Any) -> float:
        rep = report(name, y, [classes[j] for j in (logp + offset).argmax(axis=1)])
        return rep.accuracy + rep.macro_f1

    best = np.zeros(len(classes))
    best_score = score(best)
    for _ in range(3):
        for j in range(len(classes)):
            for step in np.linspace(-1.5, 1.5, 31):
                trial = best.copy()
                trial[j] = step
                value = score(trial)
                if value > best_score + 1e-9:
                    best, best_score = trial, value
    return {c: round(float(v), 3) for c, v in zip(classes, best, strict=True)}


def tune_offsets(docs: Sequence[_Doc], labels: Sequence[str], name: str, params: TrainParams) -> dict[str, float]:
    """Per-class logit offsets that maximise accuracy + macro-F1 on out-of-fold predictions.

    Logistic regression maximises likelihood, which favours the big classes; a small offset per class
    buys recall on the rare ones (a department with 2% of the rows) for little accuracy.
    """
    classes, logp = oof_log_proba(docs, labels, name, params)
    return best_offsets(logp, labels, classes, name)


def train_model(records: Iterable[dict[str, Any]], params: TrainParams | None = None, **kw: Any) -> Model:
    return loads(train(records, params, **kw), source="<trained>")


def _fitted_heads(model: Model) -> list[FittedHead]:
    """A loaded artifact's heads back as float weight tables (idf and offsets already folded in)."""
    k = model.width
    out = []
    for h in model.heads:
        lo, hi = h.offset, h.offset + h.width
        sc = model.scales[lo:hi]

        def table(index: dict[str, int], weights: array, lo: int = lo, hi: int = hi, sc: list = sc) -> dict:
            rows = {}
            for f, i in index.items():
                row = weights[i * k + lo : i * k + hi]
                if any(row):
                    rows[f] = [v * s for v, s in zip(row, sc, strict=True)]
            return rows

        out.append(
            FittedHead(
                h.name,
                list(h.classes),
                list(h.bias),
                table(model._word_index, model._word_weights),  # noqa: SLF001 - same package
                table(model._char_index, model._char_weights),  # noqa: SLF001
            )
        )
    return out


def graft(base: bytes, donor: bytes, head: str, as_name: str, prune: dict[str, int] | None = None) -> bytes:
    """``base`` with ``donor``'s head ``head`` added under the name ``as_name``.

    A brand's own head (e.g. sentiment trained on its labelled mentions only) rides in the general
    model's artifact beside the general head of the same label; the classifier uses it for that brand.
    """
    b, d = loads(base, "<base>"), loads(donor, "<donor>")
    src = next((h for h in _fitted_heads(d) if h.name == head), None)
    if src is None:
        raise ClassifierError(f"the donor model has no {head!r} head (it has {[h.name for h in d.heads]})")
    if b.head(as_name) is not None:
        raise ClassifierError(f"the base model already has a {as_name!r} head")
    src.name = as_name
    meta = {**b.meta, "grafted": {**b.meta.get("grafted", {}), as_name: {"head": head, **d.meta}}}
    return assemble([*_fitted_heads(b), src], {}, meta, prune)
