"""Would an irony head make "thanks for nothing" complaints read as negative? A measured experiment.

An irony head (TweetEval irony, train split) gives P(ironic); the sentiment of a mention then moves
``k * P(ironic)`` of its positive probability to negative. C and k are chosen on the TweetEval train
split, out-of-fold, for the largest gap between the ironic and the non-ironic negative rates. The
validation splits (TweetEval irony, UMSAB) are read once, with that choice. The sentiment head is the
multilingual one, trained as `bench.classifier`'s UMSAB section trains it (UMSAB train split, airline
tweets, hand-written mentions). docs/model.md records the result: not shipped.

    IRONY_DATASET=... UMSAB_DATASET=... AIRLINE_DATASET=... python -m bench.irony_head   # ~5-10 min
"""

from __future__ import annotations

import sys
import warnings

from bench.classifier import DATASET, INTENTS, IRONY, UMSAB, _rows


def run() -> None:
    import numpy as np
    from sklearn.model_selection import StratifiedKFold
    from socialcare.classify.metrics import report
    from socialcare.classify.train import DEFAULT_HEADS, HeadParams, featurise, fit_head, label_of

    warnings.filterwarnings("ignore")
    for p in (DATASET, UMSAB, IRONY):
        if not p.is_file():
            sys.exit(
                f"{p} is missing: put the shared data sets there or set AIRLINE_DATASET / UMSAB_DATASET / IRONY_DATASET"
            )
    umsab, irony = _rows(UMSAB), _rows(IRONY)
    fit_rows = [r for r in umsab if r["split"] == "train"] + _rows(DATASET) + _rows(INTENTS)
    fit_rows = [r for r in fit_rows if label_of(r, "sentiment")]
    sent = fit_head(
        "sentiment",
        [featurise(r["text"]) for r in fit_rows],
        [label_of(r, "sentiment") for r in fit_rows],
        DEFAULT_HEADS["sentiment"],
    )
    classes = sent.classes
    neg, pos = classes.index("negative"), classes.index("positive")

    def shift(p: np.ndarray, q: np.ndarray, k: float) -> np.ndarray:
        p = p.copy()
        moved = np.minimum(k * q, 1.0) * p[:, pos]
        p[:, pos] -= moved
        p[:, neg] += moved
        return p

    def negative_rates(p: np.ndarray, ironic: np.ndarray) -> tuple[float, float]:
        lab = p.argmax(axis=1)
        return float((lab[ironic] == neg).mean()), float((lab[~ironic] == neg).mean())

    train = [r for r in irony if r["split"] == "train"]
    docs = [featurise(r["text"]) for r in train]
    y = np.array(["yes" if r["irony"] else "no" for r in train])
    s_train = np.asarray(sent.proba(docs))
    best: tuple[float, float, float] | None = None
    print("TweetEval irony, train split, out-of-fold (choosing C and k):")
    for c in (1.0, 5.0, 20.0):
        oof = np.zeros(len(train))
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(np.zeros(len(train)), y):
            h = fit_head("irony", [docs[i] for i in tr], list(y[tr]), HeadParams(c=c, char_min_df=2))
            oof[te] = np.asarray(h.proba([docs[i] for i in te]))[:, h.classes.index("yes")]
        acc = float(((oof > 0.5) == (y == "yes")).mean())
        for k in (0.0, 0.5, 1.0):
            a, b = negative_rates(shift(s_train, oof, k), y == "yes")
            print(f"  C={c:<5} irony accuracy {acc:.3f}  k={k}: negative ironic {a:.3f}, not ironic {b:.3f}")
            if k and (best is None or a - b > best[0]):
                best = (a - b, c, k)
    assert best is not None
    _, c, k = best
    print(f"chosen: C={c}, k={k}")
    head = fit_head("irony", docs, list(y), HeadParams(c=c, char_min_df=2))

    def p_ironic(d: list) -> np.ndarray:
        return np.asarray(head.proba(d))[:, head.classes.index("yes")]

    val = [r for r in irony if r["split"] == "val"]
    d_val = [featurise(r["text"]) for r in val]
    ironic = np.array([bool(r["irony"]) for r in val])
    s_val, q_val = np.asarray(sent.proba(d_val)), p_ironic(d_val)
    print(f"TweetEval irony, validation split (n={len(val)}): irony accuracy {((q_val > 0.5) == ironic).mean():.3f}")
    for kk in (0.0, k):
        a, b = negative_rates(shift(s_val, q_val, kk), ironic)
        print(f"  k={kk}: read as negative, ironic {a:.3f}, not ironic {b:.3f}")
    held = [r for r in umsab if r["split"] == "val"]
    before, after = [], []
    for lang in sorted({r["lang"] for r in held}):
        sub = [r for r in held if r["lang"] == lang]
        d = [featurise(r["text"]) for r in sub]
        p, truth = np.asarray(sent.proba(d)), [r["sentiment"] for r in sub]
        f0 = report("sentiment", truth, [classes[j] for j in p.argmax(axis=1)]).macro_f1
        f1 = report("sentiment", truth, [classes[j] for j in shift(p, p_ironic(d), k).argmax(axis=1)]).macro_f1
        before.append(f0)
        after.append(f1)
        print(f"  UMSAB validation {lang}: macro-F1 {f0:.3f} -> {f1:.3f}")
    print(f"  UMSAB mean macro-F1 {np.mean(before):.4f} -> {np.mean(after):.4f}")


if __name__ == "__main__":
    run()
