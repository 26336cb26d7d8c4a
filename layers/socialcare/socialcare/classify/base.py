"""The classifier port: every back end (rules, the trained model, Comprehend, Bedrock) implements it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the trained model's import stays free of pydantic for a short cold start
    from socialcare.models import Tags


class ClassifierError(Exception):
    """A classifier could not be built or loaded (bad model file, bad configuration)."""


class Classifier(Protocol):
    name: str

    def classify(self, text: str, *, platform: str | None = None, rating: int | None = None) -> Tags:
        """Tag one mention. Never raises on odd text: unusable input gets low confidence or noise."""
        ...
