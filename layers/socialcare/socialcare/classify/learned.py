"""A brand's learned department head, blended with the routing it already has.

Agents' transfers and resolutions say which department a mention belonged to. A small department
head trained on them (``fit_learned``) is one model artifact with a single ``department`` head. At
inference it does not replace the brand's routing (the configuration's descriptions and keywords, or
the shipped department head): the two probability vectors are averaged with a weight chosen by
cross-validation on the agents' labels, so a department with few corrections keeps its day-one
routing and a department the agents keep correcting follows them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from socialcare.classify.base import ClassifierError
from socialcare.classify.model import Features, Model, loads

# Blend weights tried for the learned head (0: routing alone, 1: the head alone).
_WEIGHTS = tuple(round(0.1 * i, 1) for i in range(11))
_FOLDS = 5


class LearnedRouting:
    """The learned head of one artifact, for the departments of the brand it was trained for."""

    def __init__(self, model: Model, departments: Sequence[str]) -> None:
        head = model.head("department")
        if head is None:
            raise ClassifierError(f"learned model {model.source} has no department head")
        unknown = sorted(set(head.classes) - set(departments))
        if unknown:
            raise ClassifierError(
                f"learned model {model.source} routes to {unknown}, which the brand configuration no longer "
                "has; retrain it (`socialcare train --from-cases`)"
            )
        self.model = model
        self.weight = float((model.meta.get("blend") or {}).get("department", 0.5))
        self.version = str(model.meta.get("version") or "")

    def blend(
        self, text: str, base: dict[str, float], features: Features | None = None
    ) -> tuple[str, float, dict[str, float]]:
        """The department, its confidence and every department's blended probability. ``features``:
        the text's features already built for the shipped model (the same featurisation), so the text
        is split once."""
        preds, _ = self.model.predict(text, features)
        learned = preds["department"].probabilities
        return blend(base, learned, self.weight)


def blend(base: dict[str, float], learned: dict[str, float], weight: float) -> tuple[str, float, dict[str, float]]:
    probs = {d: (1.0 - weight) * p + weight * learned.get(d, 0.0) for d, p in base.items()}
    best = max(probs, key=probs.__getitem__)
    return best, probs[best], probs


def fit_learned(
    texts: Sequence[str],
    departments: Sequence[str],
    base: Callable[[str], dict[str, float]],
    *,
    meta: dict[str, Any] | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """Train a department head on (text, department) pairs and choose its blend weight.

    ``base`` gives the brand's current routing probabilities for a text (every configured
    department). The weight is the one whose out-of-fold blend scores best (accuracy + macro-F1).
    Returns the artifact and what was chosen (weight, out-of-fold figures per weight).
    """
    from socialcare.classify.metrics import report
    from socialcare.classify.train import TrainParams, featurise, fit_head, train

    if len(set(departments)) < 2:
        raise ClassifierError("a department head needs labels in at least two departments")
    params = TrainParams()
    docs = [featurise(t) for t in texts]
    base_probs = [base(t) for t in texts]
    oof: list[dict[str, float]] = [{} for _ in texts]
    for f in range(_FOLDS):
        held = [i for i in range(len(texts)) if i % _FOLDS == f]
        keep = [i for i in range(len(texts)) if i % _FOLDS != f]
        if not held or len({departments[i] for i in keep}) < 2:
            continue
        fh = fit_head(
            "department", [docs[i] for i in keep], [departments[i] for i in keep], params.for_head("department")
        )
        for i, row in zip(held, fh.proba([docs[i] for i in held]), strict=True):
            oof[i] = {c: float(p) for c, p in zip(fh.classes, row, strict=True)}
    scores: dict[float, tuple[float, float]] = {}
    for w in _WEIGHTS:
        predicted = [blend(b, o, w)[0] for b, o in zip(base_probs, oof, strict=True)]
        rep = report("department", list(departments), predicted)
        scores[w] = (round(rep.accuracy, 4), round(rep.macro_f1, 4))
    # The smallest weight among the best: trust the agents' labels no more than they earned.
    weight = max(_WEIGHTS, key=lambda w: (sum(scores[w]), -w))
    records = [{"text": t, "department": d} for t, d in zip(texts, departments, strict=True)]
    chosen = {"weight": weight, "out_of_fold": {str(w): list(s) for w, s in scores.items()}}
    blob = train(records, params, labels=("department",), meta={**(meta or {}), "blend": {"department": weight}})
    return blob, chosen


def load_learned(data: bytes, departments: Sequence[str], source: str = "<learned>") -> LearnedRouting:
    return LearnedRouting(loads(data, source=source), departments)
