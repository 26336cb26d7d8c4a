"""Accuracy, macro-F1 and confusion tables, in plain Python so `socialcare evaluate` needs nothing else."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Report:
    label: str
    n: int
    accuracy: float
    macro_f1: float
    classes: list[str]
    per_class: dict[str, dict[str, float]]
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)  # truth -> predicted -> count

    def as_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "per_class": self.per_class,
            "confusion": self.confusion,
        }

    def table(self) -> str:
        """A confusion table (rows: truth, columns: predicted) with per-class precision/recall/F1."""
        cols = self.classes
        width = max(8, *(len(c) for c in cols)) + 1
        lines = [
            f"{self.label}: n={self.n}  accuracy={self.accuracy:.4f}  macro-F1={self.macro_f1:.4f}",
            "truth \\ predicted".ljust(width + 4)
            + "".join(c[:width].rjust(width) for c in cols)
            + "   prec  recall   f1",
        ]
        for t in cols:
            row = self.confusion.get(t, {})
            pc = self.per_class[t]
            lines.append(
                t[: width + 3].ljust(width + 4)
                + "".join(str(row.get(p, 0)).rjust(width) for p in cols)
                + f"  {pc['precision']:.3f}  {pc['recall']:.3f}  {pc['f1']:.3f}"
            )
        return "\n".join(lines)


def report(label: str, truth: Sequence[str], predicted: Sequence[str]) -> Report:
    if len(truth) != len(predicted):
        raise ValueError("truth and predictions differ in length")
    classes = sorted(set(truth) | set(predicted))
    confusion: dict[str, dict[str, int]] = {c: {} for c in classes}
    for t, p in zip(truth, predicted, strict=True):
        confusion[t][p] = confusion[t].get(p, 0) + 1
    tp = Counter(t for t, p in zip(truth, predicted, strict=True) if t == p)
    n_true, n_pred = Counter(truth), Counter(predicted)
    per_class = {}
    for c in classes:
        prec = tp[c] / n_pred[c] if n_pred[c] else 0.0
        rec = tp[c] / n_true[c] if n_true[c] else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per_class[c] = {
            "precision": round(prec, 4),
            "recall": round(rec, 4),
            "f1": round(f1, 4),
            "support": n_true[c],
        }
    # Macro-F1 over the classes that occur in the truth (a spurious prediction still costs precision).
    present = [c for c in classes if n_true[c]]
    macro = sum(per_class[c]["f1"] for c in present) / len(present) if present else 0.0
    accuracy = sum(tp.values()) / len(truth) if truth else 0.0
    return Report(label, len(truth), accuracy, macro, classes, per_class, confusion)


def binary_f1(truth: Sequence[str], predicted: Sequence[str], positive: str = "yes") -> float:
    tp = sum(t == p == positive for t, p in zip(truth, predicted, strict=True))
    fp = sum(p == positive != t for t, p in zip(truth, predicted, strict=True))
    fn = sum(t == positive != p for t, p in zip(truth, predicted, strict=True))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0
