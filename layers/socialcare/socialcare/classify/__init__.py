"""Mention classification behind one interface; the back end is chosen in the brand configuration.

- ``rules``: keyword rules from the brand configuration (transparent, no artifact);
- ``model``: the trained artifact named by ``classifier.model_path`` (the default for a brand that
  ships one), pure Python, offline;
- ``comprehend``: Amazon Comprehend for sentiment and language, the model or rules for the rest;
- ``cascade`` (with ``model``): the model's tags, and Comprehend's sentiment only for the
  mentions the local model reads worst (the languages named, or low confidence);
- ``bedrock``: an LLM on Amazon Bedrock returning the tags as validated JSON.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from socialcare.classify.base import Classifier, ClassifierError

if TYPE_CHECKING:
    from collections.abc import Callable

    from socialcare.classify.learned import LearnedRouting
    from socialcare.config import BrandConfig
    from socialcare.models import Tags

    LearnedLoader = Callable[[], LearnedRouting | None]

__all__ = ["Classifier", "ClassifierError", "OnFirstUse", "build_classifier"]


class OnFirstUse:
    """A classifier built when the first mention is tagged. Every function builds the same Deps, but only
    the router classifies: the HTTP APIs, pollers and workflow steps never pay for loading the model (the
    largest part of building Deps). The router builds it on its first mention, as it did at cold start."""

    def __init__(self, build: Callable[[], Classifier]) -> None:
        self._build = build
        self._built: Classifier | None = None
        self._lock = threading.Lock()

    def _classifier(self) -> Classifier:
        with self._lock:
            if self._built is None:
                self._built = self._build()
            return self._built

    @property
    def name(self) -> str:
        return self._classifier().name

    def classify(self, text: str, *, platform: str | None = None, rating: int | None = None) -> Tags:
        return self._classifier().classify(text, platform=platform, rating=rating)


def _local(config: BrandConfig, learned: LearnedLoader | None = None) -> Classifier:
    """The offline classifier: the trained model when the brand names one, else the rules.
    ``learned`` reads the brand's department head learned from its agents, if it has one."""
    if config.classifier.model_path:
        from socialcare.classify.trained import ModelClassifier

        return ModelClassifier.from_path(config, config.classifier.model_path, learned)
    from socialcare.classify.rules import RuleClassifier

    return RuleClassifier(config)


def _cascade(config: BrandConfig, local: Classifier, client: object | None) -> Classifier:
    """The local classifier, with Comprehend asked for the sentiment it reads worst when the brand
    configures ``classifier.cascade``."""
    if config.classifier.cascade is None:
        return local
    from socialcare.classify.comprehend import ComprehendClassifier

    return ComprehendClassifier(config, local, client=client)


def build_classifier(
    config: BrandConfig, *, client: object | None = None, learned: LearnedLoader | None = None
) -> Classifier:
    """The classifier the brand configuration asks for; ``client`` injects a boto3 client (tests);
    ``learned`` reads the brand's learned department head (the model back ends use it)."""
    backend = config.classifier.backend
    if backend == "rules":
        from socialcare.classify.rules import RuleClassifier

        return RuleClassifier(config)
    if backend == "model":
        if not config.classifier.model_path:
            raise ClassifierError("classifier back end 'model' needs classifier.model_path in the brand configuration")
        return _cascade(config, _local(config, learned), client)
    if backend == "comprehend":
        from socialcare.classify.comprehend import ComprehendClassifier

        return ComprehendClassifier(config, _local(config, learned), client=client)
    if backend == "bedrock":
        from socialcare.classify.bedrock import BedrockClassifier

        return BedrockClassifier(config, _local(config, learned), client=client)
    raise ClassifierError(f"classifier back end {backend!r} is not available")
