"""Amazon Comprehend: sentiment and language from the managed service, the rest local.

Intent, actionable, department and urgency still come from the local classifier (the trained model
or the rules): Comprehend does not know a brand's departments. When Comprehend cannot answer
(throttled, unsupported language, no usable text), the local tags stand, so a mention is never lost
to a classifier error.

Two ways in: ``backend: comprehend`` asks it for every mention's language and sentiment (two calls);
``classifier.cascade`` asks it only for the sentiment of the mentions the local model reads worst, in
the language the local model detected (one call, and only for those).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from socialcare.classify.base import Classifier
from socialcare.classify.features import clean
from socialcare.config import COMPREHEND_SENTIMENT_LANGUAGES

if TYPE_CHECKING:
    from socialcare.config import BrandConfig
    from socialcare.models import Tags

SENTIMENT_LANGUAGES = COMPREHEND_SENTIMENT_LANGUAGES
# DetectSentiment and DetectDominantLanguage take at most 5,000 bytes of UTF-8.
MAX_BYTES = 4_900


def _truncate(text: str) -> str:
    data = text.encode("utf-8")[:MAX_BYTES]
    return data.decode("utf-8", errors="ignore")


class ComprehendClassifier:
    name = "comprehend"

    def __init__(self, config: BrandConfig, local: Classifier, *, client: Any | None = None) -> None:
        self._config = config
        self._local = local
        self._client = client
        cascade = config.classifier.cascade if config.classifier.backend != "comprehend" else None
        self._cascade = cascade
        self._cascade_languages = frozenset(cascade.languages) if cascade else frozenset()
        if cascade is not None:
            self.name = f"{getattr(local, 'name', 'local')}+comprehend"

    @property
    def client(self) -> Any:
        if self._client is None:
            from socialcare.aws import client

            self._client = client("comprehend")
        return self._client

    def classify(self, text: str, *, platform: str | None = None, rating: int | None = None) -> Tags:
        from socialcare.models import Scored

        if isinstance(text, bytes | bytearray):
            text = bytes(text).decode("utf-8", errors="replace")
        tags = self._local.classify(text, platform=platform, rating=rating)
        if self._cascade is not None:
            return self._escalate(text, tags, rating)
        plain = " ".join(clean(text).replace("httpurl", " ").split())
        if not any(ch.isalpha() for ch in plain):
            return tags.model_copy(update={"classifier": f"{self.name}+{tags.classifier}"})
        sample = _truncate(text.strip())
        update: dict[str, Any] = {"classifier": self.name}
        try:
            langs = self.client.detect_dominant_language(Text=sample).get("Languages") or []
            if langs:
                best = max(langs, key=lambda lang: lang.get("Score", 0.0))
                update["language"] = Scored(value=best["LanguageCode"], confidence=float(best.get("Score", 0.0)))
            code = update["language"].value if "language" in update else tags.language.value
            if code in SENTIMENT_LANGUAGES and rating is None:
                update["sentiment"] = _sentiment(self.client.detect_sentiment(Text=sample, LanguageCode=code))
        except (ClientError, BotoCoreError) as exc:
            from socialcare.observability import logger

            logger.warning("comprehend unavailable, local tags kept", error=type(exc).__name__)
            update["classifier"] = f"{self.name}+{tags.classifier}"
        return tags.model_copy(update=update)

    def escalates(self, tags: Tags, rating: int | None = None) -> bool:
        """Whether the cascade asks Comprehend for this mention's sentiment: a review's stars already
        decide it; otherwise its detected language is on the list, or the local reading is unsure."""
        cascade = self._cascade
        code = tags.language.value
        if cascade is None or rating is not None or code not in SENTIMENT_LANGUAGES:
            return False
        return code in self._cascade_languages or tags.sentiment.confidence < cascade.below

    def _escalate(self, text: str, tags: Tags, rating: int | None) -> Tags:
        if not self.escalates(tags, rating) or not any(ch.isalpha() for ch in clean(text).replace("httpurl", " ")):
            return tags
        try:
            response = self.client.detect_sentiment(Text=_truncate(text.strip()), LanguageCode=tags.language.value)
        except (ClientError, BotoCoreError) as exc:
            from socialcare.observability import logger

            logger.warning("comprehend unavailable, local tags kept", error=type(exc).__name__)
            return tags.model_copy(update={"classifier": f"comprehend+{tags.classifier}"})
        update = {"sentiment": _sentiment(response), "classifier": f"{tags.classifier}+comprehend"}
        return tags.model_copy(update=update)


def _sentiment(response: dict[str, Any]) -> Any:
    """Comprehend's POSITIVE / NEGATIVE / NEUTRAL / MIXED as our three values (mixed: its larger side)."""
    from socialcare.models import Scored

    scores = {k.lower(): float(v) for k, v in (response.get("SentimentScore") or {}).items()}
    label = str(response.get("Sentiment", "NEUTRAL")).lower()
    if label == "mixed":
        label = "negative" if scores.get("negative", 0) >= scores.get("positive", 0) else "positive"
        return Scored(value=label, confidence=min(1.0, scores.get(label, 0.0) + scores.get("mixed", 0.0) / 2))
    if label not in {"positive", "negative", "neutral"}:
        label = "neutral"
    return Scored(value=label, confidence=min(1.0, scores.get(label, 0.5)))
