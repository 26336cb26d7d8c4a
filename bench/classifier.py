"""Classifier bench: the built-in model against a scikit-learn TF-IDF + logistic regression reference.

Sections: zero-shot routing on the sample brands (no shared data needed), the airline cross-validation
below, the golden set per language, and UMSAB sentiment per language (train split -> validation split).
The shared data sets are read from ../shared/datasets or AIRLINE_DATASET / UMSAB_DATASET.

Both are trained in this run on the same stratified folds of the airline data set; the figures are
out-of-fold (every row is predicted by a model that never saw it). Department is scored on the rows
that carry a department (negative tweets with a known reason), as the held-out evaluation does.
"+ brand rules" is the built-in model with the sample brand's regex rules on top (``brand.yaml``
``rules``), as ``ModelClassifier`` applies them: the rules are written for the brand, not for this
data set, so the column shows what they cost or buy here.
Speed, size and import+load time are measured on the shipped artifact (best of several runs, so a busy
machine does not count against it) and on a reference trained
on the whole file. BENCH_FOLDS (default 5) changes the number of folds. The shipped model also carries
per-class offsets tuned by an inner cross-validation (`socialcare train --tune`); BENCH_TUNE=1 repeats
that tuning inside every fold (nested, about five times slower), otherwise the folds train without it.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATASET = Path(os.environ.get("AIRLINE_DATASET", ROOT.parent / "shared" / "datasets" / "airline_tweets_train.jsonl"))
UMSAB = Path(os.environ.get("UMSAB_DATASET", ROOT.parent / "shared" / "datasets" / "umsab_sentiment_train.jsonl"))
GOLDEN = ROOT / "tests" / "data" / "golden" / "golden.jsonl"
INTENTS = ROOT / "tests" / "data" / "golden" / "intents_train.jsonl"
IRONY = Path(os.environ.get("IRONY_DATASET", ROOT.parent / "shared" / "datasets" / "tweeteval_irony_train.jsonl"))
ROUTING = ROOT / "tests" / "data" / "routing" / "mentions.jsonl"
SAMPLE_BRANDS = {
    "Nimbus Mobile": ROOT / "examples" / "brands" / "nimbus_mobile.yaml",
    "Pixel Shop": ROOT / "examples" / "brands" / "pixel_shop.yaml",
    "Harbor Bank": ROOT / "examples" / "brands" / "harbor_bank.yaml",
}
LABELS = ("sentiment", "department")


def _rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _reference(c: float) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression(C=c, max_iter=2000))


def _cross_validate(rows: list[dict[str, Any]], folds: int) -> dict[str, dict[str, list[str]]]:
    """Out-of-fold predictions per model and label: {model: {label: predictions}}."""
    from sklearn.model_selection import StratifiedKFold
    from socialcare.classify.model import loads
    from socialcare.classify.train import BRAND_HEADS, TrainParams, train

    truth = {k: [r.get(k) for r in rows] for k in LABELS}
    models = ("built-in", "+ brand rules", "sklearn ref C=1", "sklearn ref C=5")
    ruled = _brand_rule_departments([r["text"] for r in rows])
    preds: dict[str, dict[str, list[str]]] = {m: {k: [""] * len(rows) for k in LABELS} for m in models}
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for n, (train_idx, test_idx) in enumerate(splitter.split(rows, truth["sentiment"]), start=1):
        started = time.perf_counter()
        fold_train = [rows[i] for i in train_idx]
        # The airline's own heads' recipe (docs/model.md): every word kept, nothing pruned.
        params = TrainParams(heads=dict(BRAND_HEADS), tune=LABELS if os.environ.get("BENCH_TUNE") else (), prune={})
        model = loads(train(fold_train, params, labels=LABELS))
        for i in test_idx:
            out, _ = model.predict(rows[i]["text"])
            for k in LABELS:
                preds["built-in"][k][i] = out[k].label
                preds["+ brand rules"][k][i] = ruled[i] if k == "department" and ruled[i] else out[k].label
        for name, c in (("sklearn ref C=1", 1.0), ("sklearn ref C=5", 5.0)):
            for k in LABELS:
                labelled = [r for r in fold_train if r.get(k)]
                ref = _reference(c).fit([r["text"] for r in labelled], [r[k] for r in labelled])
                for i, p in zip(test_idx, ref.predict([rows[i]["text"] for i in test_idx]), strict=True):
                    preds[name][k][i] = p
        print(f"  fold {n}/{folds} done in {time.perf_counter() - started:.0f}s", flush=True)
    preds["_truth"] = truth  # type: ignore[assignment]
    return preds


def _brand_rule_departments(texts: list[str]) -> list[str | None]:
    """The department the sample brand's regex rules force on each text (None where none matches),
    as ``ModelClassifier`` applies them on top of the model: measures what the rules cost or buy."""
    import re

    from socialcare.classify.rules import normalise
    from socialcare.config import load_config
    from socialcare.settings import Settings

    rules = [
        (re.compile(r.pattern, re.IGNORECASE), r.department)
        for r in load_config(Settings().config_path).rules
        if r.department
    ]
    out: list[str | None] = []
    for text in texts:
        clean = normalise(text)
        out.append(next((d for rx, d in rules if rx.search(clean)), None))
    return out


def _load_time(code: str) -> float:
    """Wall time, in a fresh interpreter, of importing and loading (code prints seconds); the best of
    fifteen runs, so a busy machine does not count against the artifact (twelve runs on one idle
    machine spread from 131 to 207 ms)."""
    times = []
    for _ in range(15):
        out = subprocess.run(  # noqa: S603 - this interpreter, fixed code
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return min(times)


def _median_best_of(fn: Any, texts: list[str], repeats: int = 3, rounds: int = 3) -> float:
    """Median over mentions of each mention's best-of-``repeats`` time, in µs, in the fastest of
    ``rounds`` passes. The best of 3 filters a preemption; a shared VM also runs slower for seconds at a
    time (on one idle machine, back-to-back passes read 78 to 134 µs), which only a whole pass repeated
    filters."""
    clock = time.perf_counter
    medians = []
    for _ in range(rounds):
        best = []
        for text in texts:
            fastest = float("inf")
            for _ in range(repeats):
                t0 = clock()
                fn(text)
                fastest = min(fastest, clock() - t0)
            best.append(fastest)
        medians.append(statistics.median(best))
    return min(medians) * 1e6


def _speed_builtin(texts: list[str]) -> tuple[float, float]:
    """Median µs per mention for the bare model and for the whole classify() call (tags built)."""
    from socialcare.classify import build_classifier
    from socialcare.config import load_config
    from socialcare.settings import Settings

    clf = build_classifier(load_config(Settings().config_path))
    model = clf.model  # type: ignore[attr-defined]
    for text in texts[:2000]:  # warm the per-word caches as a running Lambda would have them
        clf.classify(text)
    sample = texts[2000:6000]
    return _median_best_of(model.predict, sample), _median_best_of(clf.classify, sample)


def _routing() -> None:
    """Day-one routing: the shipped model on brands it was never trained for, departments decided from
    each brand's configuration alone, scored on hand-written mentions labelled with their department."""
    from socialcare.classify import build_classifier
    from socialcare.classify.metrics import report
    from socialcare.config import load_config

    rows = _rows(ROUTING)
    print(f"zero-shot routing ({len(rows)} hand-written mentions, no labelled data for these brands):")
    print(f"  {'brand':16}{'n':>5}{'accuracy':>10}{'macro-F1':>10}{'µs/mention':>12}   (target accuracy >= 0.75)")
    for name, path in SAMPLE_BRANDS.items():
        clf = build_classifier(load_config(str(path)))
        sub = [r for r in rows if r["brand"] == name]
        rep = report(
            "department", [r["department"] for r in sub], [clf.classify(r["text"]).department.value for r in sub]
        )
        # A hundred mentions pass in 20 ms, inside any one slow spell of the machine: time ten copies, five times.
        us = _median_best_of(clf.classify, [r["text"] for r in sub] * 10, rounds=5)
        print(f"  {name:16}{len(sub):>5}{rep.accuracy:>10.4f}{rep.macro_f1:>10.4f}{us:>12.1f}")
        by_lang: dict[str, list[dict[str, Any]]] = {}
        for r in sub:
            by_lang.setdefault(r["lang"], []).append(r)
        cells = []
        for lang, lr in sorted(by_lang.items()):
            hit = sum(clf.classify(r["text"]).department.value == r["department"] for r in lr)
            cells.append(f"{lang} {hit}/{len(lr)}")
        print(f"  {'':16}per language: " + ", ".join(cells))
    if DATASET.is_file():
        from socialcare.classify.routing import ZeroShotRouter
        from socialcare.settings import Settings

        router = ZeroShotRouter(load_config(Settings().config_path))
        air = [r for r in _rows(DATASET) if r["department"]]
        rep = report("department", [r["department"] for r in air], [router.route(r["text"])[0] for r in air])
        print(
            f"  airline tweets, the sample airline's configuration only (no trained head): accuracy "
            f"{rep.accuracy:.4f}, macro-F1 {rep.macro_f1:.4f} (n={len(air)}; the trained head: see below)"
        )
    print()


# The first id of the newest blind golden batch: the bench prints it apart, so a batch's first readings
# stay visible beside the whole set's.
NEWEST_GOLDEN_BATCH = 1001  # the third blind batch; the second began at gold-712


def _golden() -> None:
    """Intent, actionable, sentiment and language per language on the hand-written golden set (never
    trained on), beside a scikit-learn TF-IDF + LR reference trained in this run on the same
    hand-written training mentions (intent and actionable: one classifier each)."""
    from socialcare.classify import build_classifier
    from socialcare.classify.metrics import binary_f1
    from socialcare.config import load_config
    from socialcare.settings import Settings

    golden = _rows(GOLDEN)
    training = _rows(INTENTS)
    clf = build_classifier(load_config(Settings().config_path))
    tags = [clf.classify(r["text"], rating=r.get("rating")) for r in golden]
    texts = [r["text"] for r in training]
    ref_intent = _reference(5.0).fit(texts, [r["intent"] for r in training]).predict([r["text"] for r in golden])
    ref_act = _reference(5.0).fit(texts, [r["actionable"] for r in training]).predict([r["text"] for r in golden])
    langs = sorted({r["lang"] for r in golden})
    print(
        f"golden set ({len(golden)} hand-written mentions, {len(langs)} languages; never trained on), the sample "
        f"airline's classifier; reference: scikit-learn TF-IDF + LR on the same {len(training)} training mentions"
    )
    newest = [i for i, r in enumerate(golden) if int(r["id"].rsplit("-", 1)[1]) >= NEWEST_GOLDEN_BATCH]
    for title, keep in (("whole set", range(len(golden))), (f"newest batch (gold-{NEWEST_GOLDEN_BATCH} on)", newest)):
        print(f"  {title}")
        print(
            f"  {'language':10}{'n':>5}{'intent acc':>12}{'ref':>7}{'actionable F1':>15}{'ref':>7}"
            f"{'sentiment acc':>15}{'urgency acc':>13}{'language id':>13}"
        )
        for lang in [*langs, "all"]:
            idx = [i for i in keep if lang in ("all", golden[i]["lang"])]
            n = len(idx)
            if not n:
                continue
            truth = [golden[i] for i in idx]
            got = [tags[i] for i in idx]
            intent = sum(t.intent.value == r["intent"] for t, r in zip(got, truth, strict=True)) / n
            act = binary_f1([r["actionable"] for r in truth], [t.actionable.value for t in got])
            r_intent = sum(ref_intent[i] == golden[i]["intent"] for i in idx) / n
            r_act = binary_f1([r["actionable"] for r in truth], [str(ref_act[i]) for i in idx])
            sent = sum(t.sentiment.value == r["sentiment"] for t, r in zip(got, truth, strict=True)) / n
            urg = sum(t.urgency.value == r["urgency"] for t, r in zip(got, truth, strict=True)) / n
            lid = sum(t.language.value == r["lang"] for t, r in zip(got, truth, strict=True)) / n
            print(
                f"  {lang:10}{n:>5}{intent:>12.3f}{r_intent:>7.3f}{act:>15.3f}{r_act:>7.3f}"
                f"{sent:>15.3f}{urg:>13.3f}{lid:>13.3f}"
            )
    print("  targets: intent accuracy >= 0.88 and actionable F1 >= 0.95 in every language")
    print()


def run() -> None:
    from socialcare.classify.metrics import report
    from socialcare.classify.trained import resolve_model_path

    _routing()
    _golden()
    if not DATASET.is_file():
        _multilingual()
        print(
            f"skipped: the airline data set (airline_tweets_train.jsonl, the Twitter US Airline Sentiment "
            f"training split) is not at {DATASET}; put it there or set AIRLINE_DATASET to its path"
        )
        return
    folds = int(os.environ.get("BENCH_FOLDS", "5"))
    rows = _rows(DATASET)
    print(f"airline tweets: {len(rows)} rows, {folds}-fold stratified cross-validation (same folds for all)")
    preds = _cross_validate(rows, folds)
    truth = preds.pop("_truth")

    artifact = resolve_model_path("model/airline.scm")
    texts = [r["text"] for r in rows]
    bare_us, full_us = _speed_builtin(texts)

    ref = _reference(5.0).fit(texts, [r["sentiment"] for r in rows])
    ref_dept = _reference(5.0).fit(
        [r["text"] for r in rows if r["department"]], [r["department"] for r in rows if r["department"]]
    )
    ref_path = Path(tempfile.gettempdir()) / "socialcare-bench-ref.pkl"
    ref_path.write_bytes(pickle.dumps((ref, ref_dept)))
    ref_us = _median_best_of(lambda t: (ref.predict_proba([t]), ref_dept.predict_proba([t])), texts[2000:4000])

    builtin_load = _load_time(
        "import time; t=time.perf_counter(); from socialcare.classify.trained import load_model; "
        f"load_model({str(artifact)!r}); print(time.perf_counter()-t)"
    )
    builtin_cold = _load_time(
        "import time; t=time.perf_counter(); from socialcare.classify import build_classifier; "
        "from socialcare.config import load_config; from socialcare.settings import Settings; "
        "build_classifier(load_config(Settings().config_path)).classify('x'); print(time.perf_counter()-t)"
    )
    ref_load = _load_time(
        f"import time, pickle; t=time.perf_counter(); pickle.loads(open({str(ref_path)!r},'rb').read()); "
        "print(time.perf_counter()-t)"
    )

    header = f"{'':34}" + "".join(f"{m:>18}" for m in preds)
    print()
    print(header)
    for k in LABELS:
        idx = [i for i, t in enumerate(truth[k]) if t]
        for metric in ("accuracy", "macro-F1"):
            cells = []
            for m in preds:
                rep = report(k, [truth[k][i] for i in idx], [preds[m][k][i] for i in idx])
                cells.append(rep.accuracy if metric == "accuracy" else rep.macro_f1)
            print(f"{k + ' ' + metric + f' (n={len(idx)})':34}" + "".join(f"{v:>18.4f}" for v in cells))
    print(f"{'µs per mention (median best-of-3)':34}{bare_us:>18.1f}{'':>18}{ref_us:>18.1f}{'':>18}")
    print(f"{'  built-in incl. rules + Tags':34}{full_us:>18.1f}")
    print(f"{'model size (MB)':34}{artifact.stat().st_size / 1e6:>18.2f}{'':>18}{ref_path.stat().st_size / 1e6:>18.2f}")
    print(f"{'import + load (ms, best of 15)':34}{builtin_load * 1e3:>18.1f}{'':>18}{ref_load * 1e3:>18.1f}")
    print(f"{'load average (1, 5, 15 min)':34}" + "".join(f"{v:>6.2f}" for v in os.getloadavg()))
    print(f"{'  built-in cold start, whole port':34}{builtin_cold * 1e3:>18.1f}")
    print("targets (held-out): sentiment acc >= 0.83, macro-F1 >= 0.78; department acc >= 0.74, macro-F1 >= 0.66;")
    print("                    <= 100 µs per mention; <= 10 MB; import + load <= 150 ms")
    print("the reference's speed, size and load cover sentiment + department, with scikit-learn already imported")
    print("µs: each mention's best of 3, the median over mentions, the fastest of 3 whole passes (both sides)")

    _multilingual()


# Unambiguous English words, which code-mixed tweets in every language use too.
_POLAR = {
    "positive": re.compile(r"\b(good|best|love|great|nice|awesome|congrats|congratulations|happy)\b"),
    "negative": re.compile(r"\b(bad|worst|hate|sad|shame|terrible|awful|disgusting)\b"),
}


def confusion(truth: list[str], pred: list[str], classes: list[str]) -> str:
    """A confusion matrix on one line: per true class, the counts predicted as each of ``classes``."""
    c = Counter(zip(truth, pred, strict=True))
    return " | ".join(f"{t[:3]} " + " ".join(f"{c[(t, p)]:4d}" for p in classes) for t in classes)


def _label_agreement(rows: list[dict[str, Any]]) -> None:
    """How often a language's labels agree with an unambiguous word: of the tweets with only positive
    (or only negative) English words, the share labelled that way and the share labelled the opposite
    way. A language whose labels disagree with plain words caps what any word-based model can learn."""
    print("  labels against plain English words (tweets with only positive / only negative ones; n >= 20):")
    for lang in sorted({r["lang"] for r in rows}):
        cells = []
        for polar, other in (("positive", "negative"), ("negative", "positive")):
            hits = [
                r["sentiment"]
                for r in rows
                if r["lang"] == lang and _POLAR[polar].search(t := r["text"].lower()) and not _POLAR[other].search(t)
            ]
            if len(hits) >= 20:
                cells.append(
                    f"{polar} words n={len(hits)}: labelled {polar} {hits.count(polar) / len(hits):.2f}, "
                    f"{other} {hits.count(other) / len(hits):.2f}"
                )
        if cells:
            print(f"    {lang}: " + "; ".join(cells))


def _multilingual() -> None:
    """UMSAB sentiment per language: trained on the benchmark's train split with the airline tweets and
    the hand-written mentions (as the shipped model is), scored on UMSAB's validation split, which this
    run never trains on; the same model's language head too. Beside it, a scikit-learn TF-IDF + LR
    reference trained in this run on the same sentiment rows. Irony: the share of TweetEval's
    validation-split tweets read as negative and as positive, ironic or not (no model is trained on them)."""
    from socialcare.classify.metrics import report
    from socialcare.classify.model import loads
    from socialcare.classify.train import label_of, train

    if not UMSAB.is_file():
        print(f"UMSAB data set not found at {UMSAB}; set UMSAB_DATASET to run the multilingual section")
        return
    rows = _rows(UMSAB)
    fit = [r for r in rows if r["split"] == "train"]
    held = [r for r in rows if r["split"] == "val"]
    extra = (_rows(DATASET) if DATASET.is_file() else []) + _rows(INTENTS)
    irony = _rows(IRONY) if IRONY.is_file() else []
    started = time.perf_counter()
    model = loads(train(fit + extra, labels=("sentiment", "language")))
    print()
    print(
        f"UMSAB sentiment: trained on {len(fit)} train-split tweets + {len(extra)} airline tweets and "
        f"hand-written mentions in {time.perf_counter() - started:.0f}s, scored on the {len(held)} "
        "validation-split tweets"
    )
    labelled = [(r["text"], lab) for r in fit + extra if (lab := label_of(r, "sentiment")) is not None]
    ref = _reference(1.0).fit([t for t, _ in labelled], [lab for _, lab in labelled])
    from socialcare.classify.language import detect

    print(f"  {'language':10}{'n':>5}{'macro-F1':>10}{'ref':>8}{'accuracy':>10}{'ref':>8}{'language id':>13}")
    f1s, ref_f1s = [], []
    confusions = {}
    for lang in sorted({r["lang"] for r in held}):
        sub = [r for r in held if r["lang"] == lang]
        truth = [r["sentiment"] for r in sub]
        preds = [model.predict_all(r["text"]) for r in sub]
        rep = report("sentiment", truth, [p[0]["sentiment"].label for p in preds])
        ref_rep = report("sentiment", truth, [str(p) for p in ref.predict([r["text"] for r in sub])])
        lid = sum(
            detect(r["text"], p[2], p[0].get("language"), p[1])[0] == lang for r, p in zip(sub, preds, strict=True)
        )
        f1s.append(rep.macro_f1)
        ref_f1s.append(ref_rep.macro_f1)
        confusions[lang] = (rep.macro_f1, truth, [p[0]["sentiment"].label for p in preds])
        print(
            f"  {lang:10}{len(sub):>5}{rep.macro_f1:>10.4f}{ref_rep.macro_f1:>8.4f}{rep.accuracy:>10.4f}"
            f"{ref_rep.accuracy:>8.4f}{lid / len(sub):>13.4f}"
        )
    print(
        f"  mean macro-F1 {sum(f1s) / len(f1s):.4f} (reference {sum(ref_f1s) / len(ref_f1s):.4f}), lowest "
        f"{min(f1s):.4f} (reference {min(ref_f1s):.4f})   (targets: mean >= 0.55, none below 0.45)"
    )
    # Macro-F1 punishes a lopsided prediction mix: the weakest language's matrix shows whether it has one.
    lowest = min(confusions, key=lambda k: confusions[k][0])
    _, truth, got = confusions[lowest]
    classes = sorted(set(truth))
    print(f"  {lowest} confusion (rows true, columns predicted {classes}): {confusion(truth, got, classes)}")
    _label_agreement(rows)
    if not irony:
        print(f"  TweetEval irony data set not found at {IRONY}; set IRONY_DATASET for the irony figures")
    val = [r for r in irony if r["split"] == "val"]
    for flag, name in ((True, "ironic"), (False, "not ironic")):
        sub = [r for r in val if r["irony"] is flag]
        if not sub:
            continue
        ours = [model.predict(r["text"])[0]["sentiment"].label for r in sub]
        theirs = [str(p) for p in ref.predict([r["text"] for r in sub])]
        print(
            f"  TweetEval irony, validation split, {name} (n={len(sub)}): read as negative "
            f"{ours.count('negative') / len(sub):.3f} (reference {theirs.count('negative') / len(sub):.3f}), "
            f"as positive {ours.count('positive') / len(sub):.3f} (reference {theirs.count('positive') / len(sub):.3f})"
        )
