"""Amazon Comprehend back end: sentiment and language from the managed service, the rest local.

Intent, actionable, department and urgency still come from the local classifier (the trained model
or the rules): Comprehend does not know a brand's departments. When Comprehend cannot answer
(throttled, unsupported language, no usable text), the local tags stand, so a mention is never lost
to a classifier error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from socialcare.classify.base import Classifier
from socialcare.classify.features import clean

if TYPE_CHECKING:
    from socialcare.config import BrandConfig
    from socialcare.models import Tags

# Languages DetectSentiment accepts.
SENTIMENT_LANGUAGES = frozenset({"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW"})
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
