"""Cross-validation of the intent and actionable heads on the hand-written training mentions only.

Used to choose changes to those heads (parameters, stacking, how actionable is derived, new training
mentions) without looking at the golden set, which is kept for the promotion check.

Folds are stratified by language, so every language is split five ways (repeated with ``CV_REPEATS``
seeds); the figures are out-of-fold, per language, as the golden table reports them: intent accuracy
after the joint decoding of ``ModelClassifier`` (``_joint_intent``), and actionable F1 of "yes".

The stacked sentiment input is the probability of a sentiment head trained on the airline and UMSAB
tweets only (none of the hand-written mentions), so it is out-of-sample for every mention, as it is
for a mention the shipped model scores. That head is fitted once and cached beside the data set
(``CV_CACHE``, default the temporary directory). It needs the shared data (AIRLINE_DATASET, UMSAB_DATASET; see
bench.classifier).

    python -m bench.intent_cv                        # every candidate below on the training mentions
    CV_BASE=old.jsonl CV_DATA=new.jsonl python -m bench.intent_cv   # more mentions: scored on the
                                                     # old rows (new ones always train) and on all rows
    CV_ONLY="shipped,actionable head alone" ...     # some candidates only; CV_REPEATS (default 2)
"""

from __future__ import annotations

import os
import sys
import tempfile
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.classifier import DATASET, INTENTS, UMSAB, _rows

CACHE = Path(os.environ.get("CV_CACHE", tempfile.gettempdir()))
ACTIONABLE = {"request", "complaint", "question"}


def sentiment_probabilities(texts: list[str]) -> dict[str, list[float]]:
    """P(negative, neutral, positive) per text from a sentiment head that never saw these texts."""
    from socialcare.classify.model import load
    from socialcare.classify.train import DEFAULT_HEADS, assemble, featurise, fit_head, label_of

    path = CACHE / "socialcare-intent-cv-sentiment.scm"
    if not path.is_file():
        for p in (DATASET, UMSAB):
            if not p.is_file():
                sys.exit(f"{p} is missing: put the shared data sets there or set AIRLINE_DATASET / UMSAB_DATASET")
        rows = [r for p in (DATASET, UMSAB) for r in _rows(p) if label_of(r, "sentiment")]
        head = fit_head(
            "sentiment",
            [featurise(r["text"]) for r in rows],
            [label_of(r, "sentiment") for r in rows],
            DEFAULT_HEADS["sentiment"],
        )
        path.write_bytes(assemble([head], {}, {"rows": len(rows)}, {}))
    model = load(str(path))
    out = {}
    for t in set(texts):
        p = model.predict(t)[0]["sentiment"].probabilities
        out[t] = [p.get(c, 0.0) for c in ("negative", "neutral", "positive")]
    return out


def _fit(docs: list[Any], labels: list[str], params: Any, extra: Any) -> Any:
    """fit_head's model, returned as a function of (docs, extra) -> (classes, probabilities)."""
    import numpy as np
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression
    from socialcare.classify.train import _Block, _nb_one_vs_rest

    wb, cb = _Block(docs, "words", params.word_min_df), _Block(docs, "chars", params.char_min_df)

    def x_of(d: list[Any], e: Any) -> Any:
        blocks = [wb.matrix(d), cb.matrix(d)]
        if e is not None:
            blocks.append(sp.csr_matrix(e))
        return sp.hstack(blocks).tocsr()

    x = x_of(docs, extra)
    y = np.array(labels)
    clf = LogisticRegression(C=params.c, max_iter=3000, class_weight=params.class_weight).fit(x, y)
    coef, intercept = clf.coef_, clf.intercept_
    if len(clf.classes_) == 2:
        coef, intercept = np.vstack([np.zeros_like(coef[0]), coef[0]]), np.array([0.0, intercept[0]])
    if params.nb and len(clf.classes_) > 2:
        nb_coef, nb_int = _nb_one_vs_rest(x, y, clf.classes_, params.nb_c)
        coef, intercept = (coef + nb_coef) / 2, (intercept + nb_int) / 2

    def proba(d: list[Any], e: Any) -> Any:
        z = x_of(d, e) @ coef.T + intercept
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    return list(clf.classes_), proba


def decode(
    intent_classes: list[str], p_intent: Any, p_yes: Any, mode: str, threshold: float = 0.5
) -> tuple[list[str], list[str]]:
    """Intent (joint with actionable, as ``_joint_intent``) and the actionable tag, per row.

    mode "head": the actionable tag is the actionable head's own argmax (shipped before the joint decoding);
    "joint" (shipped): yes when the joint distribution puts more than ``threshold`` of its mass on actionable intents;
    "consistent": as "joint", and the intent is the most likely one on that side, so they always agree.
    """
    import numpy as np

    act = np.array([c in ACTIONABLE for c in intent_classes])
    joint = p_intent * np.where(act, p_yes[:, None], 1.0 - p_yes[:, None])
    intents = [intent_classes[j] for j in joint.argmax(axis=1)]
    if mode in ("joint", "consistent"):
        mass = joint[:, act].sum(axis=1) / joint.sum(axis=1)
        acts = ["yes" if m > threshold else "no" for m in mass]
        if mode == "consistent":  # the intent is the best one on the side the actionable tag took
            side = np.where((mass > threshold)[:, None], act[None, :], ~act[None, :])
            intents = [intent_classes[j] for j in np.where(side, joint, -1.0).argmax(axis=1)]
    else:
        acts = ["yes" if p > 0.5 else "no" for p in p_yes]
    return intents, acts


def cross_validate(
    rows: list[dict[str, Any]],
    intent_params: Any,
    actionable_params: Any,
    *,
    stack: bool = True,
    mode: str = "joint",
    threshold: float = 0.5,
    folds: int = 5,
    repeats: int = 2,
) -> list[tuple[str, str]]:
    """Out-of-fold (intent, actionable) per row, ``repeats`` times over: a list per repeat, flattened."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold
    from socialcare.classify.train import featurise

    docs = [featurise(r["text"]) for r in rows]
    sent = sentiment_probabilities([r["text"] for r in rows]) if stack else None
    extra = np.array([sent[r["text"]] for r in rows]) if stack else None
    langs = [r["lang"] if sum(x["lang"] == r["lang"] for x in rows) >= folds else "other" for r in rows]
    out: list[list[tuple[str, str]]] = []
    for seed in range(repeats):
        pred: list[tuple[str, str]] = [("", "")] * len(rows)
        for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(rows)), langs):
            d_tr, d_te = [docs[i] for i in tr], [docs[i] for i in te]
            e_tr = extra[tr] if stack else None
            e_te = extra[te] if stack else None
            ic, ip = _fit(d_tr, [rows[i]["intent"] for i in tr], intent_params, e_tr)
            ac, ap = _fit(d_tr, [rows[i]["actionable"] for i in tr], actionable_params, e_tr)
            p_yes = ap(d_te, e_te)[:, ac.index("yes")]
            intents, acts = decode(ic, ip(d_te, e_te), p_yes, mode, threshold)
            for k, i in enumerate(te):
                pred[i] = (intents[k], acts[k])
        out.append(pred)
    return out


def scores(rows: list[dict[str, Any]], preds: list[list[tuple[str, str]]], keep: set[int] | None = None) -> dict:
    """Per language (and "all"): intent accuracy and actionable F1, averaged over the repeats."""
    from socialcare.classify.metrics import binary_f1

    keep = keep if keep is not None else set(range(len(rows)))
    langs = sorted({rows[i]["lang"] for i in keep})
    table: dict[str, tuple[int, float, float]] = {}
    for lang in [*langs, "all"]:
        idx = [i for i in sorted(keep) if lang in ("all", rows[i]["lang"])]
        acc = f1 = 0.0
        for pred in preds:
            acc += sum(pred[i][0] == rows[i]["intent"] for i in idx) / len(idx)
            f1 += binary_f1([rows[i]["actionable"] for i in idx], [pred[i][1] for i in idx])
        table[lang] = (len(idx), acc / len(preds), f1 / len(preds))
    return table


def show(name: str, table: dict) -> None:
    langs = [k for k in table if k != "all"]
    worst_i = min(table[k][1] for k in langs if table[k][0] >= 20)
    worst_a = min(table[k][2] for k in langs if table[k][0] >= 20)
    cells = " ".join(f"{k}:{v[1]:.3f}/{v[2]:.3f}" for k, v in table.items())
    print(f"{name:34} all {table['all'][1]:.3f}/{table['all'][2]:.3f}  worst {worst_i:.3f}/{worst_a:.3f} | {cells}")


def _candidates() -> dict[str, dict[str, Any]]:
    from socialcare.classify.train import DEFAULT_HEADS

    i0, a0 = DEFAULT_HEADS["intent"], DEFAULT_HEADS["actionable"]
    return {
        "shipped": {},
        "actionable head alone": {"mode": "head"},
        "joint and same-side intent": {"mode": "consistent"},
        "no sentiment stacking": {"stack": False},
        "intent c=5": {"intent": replace(i0, c=5.0)},
        "intent c=50": {"intent": replace(i0, c=50.0)},
        "intent char_min_df=2": {"intent": replace(i0, char_min_df=2)},
        # Every word kept, as the intent heads were trained before word_min_df=2; and a stricter cut.
        "both word_min_df=1": {"intent": replace(i0, word_min_df=1), "actionable": replace(a0, word_min_df=1)},
        "both word_min_df=3": {"intent": replace(i0, word_min_df=3), "actionable": replace(a0, word_min_df=3)},
        "intent c=10": {"intent": replace(i0, c=10.0)},
        "intent c=40": {"intent": replace(i0, c=40.0)},
        "actionable c=10": {"actionable": replace(a0, c=10.0)},
        "actionable c=40": {"actionable": replace(a0, c=40.0)},
        "intent unweighted": {"intent": replace(i0, class_weight=None)},
        "intent nb_c=0.3": {"intent": replace(i0, nb_c=0.3)},
        "intent nb_c=3": {"intent": replace(i0, nb_c=3.0)},
        "intent without nb": {"intent": replace(i0, nb=False)},
        "actionable c=5": {"actionable": replace(a0, c=5.0)},
        "actionable c=50": {"actionable": replace(a0, c=50.0)},
        "actionable balanced": {"actionable": replace(a0, class_weight="balanced")},
        "actionable char_min_df=2": {"actionable": replace(a0, char_min_df=2)},
        **{f"joint threshold {t}": {"threshold": t} for t in (0.3, 0.4, 0.45, 0.55)},
    }


def main() -> None:
    warnings.filterwarnings("ignore", message="The least populated class")
    from socialcare.classify.train import DEFAULT_HEADS

    base = _rows(Path(os.environ.get("CV_BASE", INTENTS)))
    extra_path = os.environ.get("CV_DATA")
    rows = base + (_rows(Path(extra_path)) if extra_path else [])
    original = set(range(len(base)))
    names = [n for n in os.environ.get("CV_ONLY", "").split(",") if n]
    repeats = int(os.environ.get("CV_REPEATS", "2"))
    print(f"{len(rows)} training mentions ({len(base)} original), 5 folds by language x {repeats} repeats")
    print(
        "figures: intent accuracy / actionable F1, out-of-fold" + (" (original rows | all rows)" if extra_path else "")
    )
    for name, cand in _candidates().items():
        if names and name not in names:
            continue
        preds = cross_validate(
            rows,
            cand.get("intent", DEFAULT_HEADS["intent"]),
            cand.get("actionable", DEFAULT_HEADS["actionable"]),
            stack=cand.get("stack", True),
            mode=cand.get("mode", "joint"),
            threshold=cand.get("threshold", 0.5),
            repeats=repeats,
        )
        show(name, scores(rows, preds, original))
        if extra_path:
            show("  (all rows)", scores(rows, preds))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
