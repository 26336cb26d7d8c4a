"""Mention classification behind one interface; the back end is chosen in the brand configuration."""

from __future__ import annotations

from socialcare.classify.base import Classifier, ClassifierError
from socialcare.config import BrandConfig

__all__ = ["Classifier", "ClassifierError", "build_classifier"]


def build_classifier(config: BrandConfig) -> Classifier:
    backend = config.classifier.backend
    if backend == "rules":
        from socialcare.classify.rules import RuleClassifier

        return RuleClassifier(config)
    raise ClassifierError(f"classifier back end {backend!r} is not available")
