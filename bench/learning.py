"""Routing learned from agents' corrections: what it buys and what it costs per mention.

Offline (no stack): the hand-written Harbor Bank cases in tests/data/learning stand for what its
agents transferred and resolved (every case with its right department), the learned head is trained
as `socialcare train --from-cases` trains it, and routing is scored on the 101 Harbor Bank mentions of
the labelled routing set, which no case is made from. The end-to-end figure through the local stack is
in tests/integration/test_learning_from_cases.py (docs/model.md).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BRAND = ROOT / "examples" / "brands" / "harbor_bank.yaml"
CASES = ROOT / "tests" / "data" / "learning" / "harbor_bank_cases.jsonl"
ROUTING = ROOT / "tests" / "data" / "routing" / "mentions.jsonl"


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _us(fn: Any, texts: list[str], repeats: int = 3) -> float:
    best = []
    for text in texts:
        fastest = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn(text)
            fastest = min(fastest, time.perf_counter() - t0)
        best.append(fastest)
    return statistics.median(best) * 1e6


def run() -> None:
    from socialcare.cases.learning import held_out
    from socialcare.classify.learned import fit_learned, load_learned
    from socialcare.classify.metrics import report
    from socialcare.classify.trained import ModelClassifier
    from socialcare.config import load_config

    config = load_config(str(BRAND))
    cases = [r for r in _rows(CASES) if r["department"] and not held_out(r["id"])]
    test = [r for r in _rows(ROUTING) if r["brand"] == config.brand]
    base = ModelClassifier.from_path(config, config.classifier.model_path)
    started = time.perf_counter()
    blob, chosen = fit_learned(
        [r["text"] for r in cases], [r["department"] for r in cases], base.department_probabilities
    )
    took = time.perf_counter() - started
    learned = load_learned(blob, config.department_names)
    after = ModelClassifier.from_path(config, config.classifier.model_path, lambda: learned)
    texts = [r["text"] for r in test]
    for clf in (base, after):  # warm the per-word caches as a running function would have them
        for t in texts:
            clf.classify(t)
    print(
        f"learned routing, {config.brand}: trained on {len(cases)} worked cases in {took:.1f}s "
        f"(blend weight {chosen['weight']}, artifact {len(blob) / 1000:.0f} KB); "
        f"scored on {len(test)} mentions no case was made from"
    )
    print(f"  {'':34}{'accuracy':>10}{'macro-F1':>10}{'µs/mention':>12}")
    for name, clf in (("routing from the configuration", base), ("with the learned head", after)):
        rep = report("department", [r["department"] for r in test], [clf.classify(t).department.value for t in texts])
        print(f"  {name:34}{rep.accuracy:>10.4f}{rep.macro_f1:>10.4f}{_us(clf.classify, texts):>12.1f}")
    print()
