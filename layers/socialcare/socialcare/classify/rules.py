"""A transparent keyword classifier: every tag can be traced to the phrase that produced it."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from socialcare.config import BrandConfig, Rule
from socialcare.models import ACTIONABLE_INTENTS, Intent, Scored, Tags

_TAG_RE = re.compile(r"<[^>]+>")
_URL_RE = re.compile(r"https?://\S+")
_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)

_NEGATIVE = {
    "worst",
    "terrible",
    "awful",
    "never",
    "unacceptable",
    "ridiculous",
    "angry",
    "hate",
    "horrible",
    "lost",
    "broken",
    "cancelled",
    "delayed",
    "rude",
    "still",
    "nobody",
    "disappointed",
    "bad",
}
_POSITIVE = {
    "thanks",
    "thank",
    "great",
    "love",
    "awesome",
    "amazing",
    "best",
    "kudos",
    "excellent",
    "wonderful",
}


def normalise(text: str) -> str:
    """Lower-cased text without markup or links, the form every matcher sees."""
    text = text or ""
    # Passes run only when their trigger is there (this is on the classify hot path).
    if "<" in text:
        text = _TAG_RE.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    if "http" in text:
        text = _URL_RE.sub(" ", text)
    return " ".join(text.lower().split())


# Tags a brand rule can set.
RULED_TAGS = ("department", "intent", "urgency")
# Patterns that cannot share one alternation with others: numbered back-references and conditionals
# would point at another pattern's groups.
_NUMBERED_GROUP_REF = re.compile(r"\\[1-9]|\(\?\(\d")
_ESCAPE = re.compile(r"\\.")


def _matches_case(pattern: str) -> bool:
    """Whether a pattern has capital letters (outside escapes such as ``\\W``) that lower-cased text
    can only meet case-insensitively."""
    return any(ch.isupper() for ch in _ESCAPE.sub("", pattern))


class BrandRules:
    """A brand's regex rules over normalised text: for each tag, the first matching rule that sets it wins.

    Text is lower-cased before it gets here (``normalise``), so a pattern without capitals is matched
    case-sensitively, which the regex engine does about a third faster. Nearly no mention matches any
    rule, so one search over all patterns joined comes first (about 3 µs for the sample airline's
    four rules against 10 µs for four searches); only a hit runs the rules one by one.
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        self._rules = [(re.compile(r.pattern, re.IGNORECASE if _matches_case(r.pattern) else 0), r) for r in rules]
        self._any: re.Pattern[str] | None = None
        if rules and not any(_NUMBERED_GROUP_REF.search(r.pattern) for r in rules):
            flags = re.IGNORECASE if any(rx.flags & re.IGNORECASE for rx, _ in self._rules) else 0
            try:
                self._any = re.compile("|".join(f"(?:{r.pattern})" for r in rules), flags)
            except re.error:  # e.g. the same group name in two patterns, or inline flags
                self._any = None

    def __bool__(self) -> bool:
        return bool(self._rules)

    def decide(self, clean: str) -> dict[str, str]:
        """The tags the rules set for normalised text ``clean`` (tag -> value); {} when none matches."""
        if not self._rules or (self._any is not None and self._any.search(clean) is None):
            return {}
        out: dict[str, str] = {}
        for regex, rule in self._rules:
            if regex.search(clean):
                for name in RULED_TAGS:
                    value = getattr(rule, name)
                    if value and name not in out:
                        out[name] = value
        return out


def _hits(text: str, words: set[str], phrases: list[str]) -> int:
    count = 0
    for phrase in phrases:
        p = phrase.lower()
        if " " in p or not p.isalnum():
            count += p in text
        else:
            count += p in words
    return count


class RuleClassifier:
    """Keywords per department, intent and urgency from the brand configuration; regex rules win."""

    name = "rules"

    def __init__(self, config: BrandConfig) -> None:
        self._config = config
        self._rules = BrandRules(config.rules)

    def classify(self, text: str, *, platform: str | None = None, rating: int | None = None) -> Tags:
        clean = normalise(text)
        words = set(_WORD_RE.findall(clean))
        cfg = self._config

        dept_scores = {d.name: _hits(clean, words, d.keywords) for d in cfg.departments}
        intent_scores = {name: _hits(clean, words, phrases) for name, phrases in cfg.intents.items()}
        urgency_scores = {name: _hits(clean, words, phrases) for name, phrases in cfg.urgency.items()}

        ruled = self._rules.decide(clean)
        department, intent, urgency = ruled.get("department"), ruled.get("intent"), ruled.get("urgency")

        if not words:
            intent, intent_conf = Intent.NOISE.value, 0.3
        elif intent is not None:
            intent_conf = 0.95
        else:
            best = max(intent_scores.items(), key=lambda kv: kv[1], default=("complaint", 0))
            # A complaint that also asks something is a request for help, not idle curiosity.
            if best[1] == 0:
                intent, intent_conf = Intent.COMPLAINT.value if words & _NEGATIVE else Intent.NOISE.value, 0.3
            else:
                intent = best[0]
                if intent == "question" and intent_scores.get("complaint", 0) >= 1:
                    intent = "request"
                intent_conf = min(0.9, 0.4 + 0.15 * best[1])
        if rating is not None and rating <= 2 and intent not in {"noise"}:
            intent, intent_conf = Intent.COMPLAINT.value, max(intent_conf, 0.8)

        if department is not None:
            dept_conf = 0.95
        else:
            best_dept = max(dept_scores.items(), key=lambda kv: kv[1])
            department = best_dept[0] if best_dept[1] else cfg.default_department
            dept_conf = min(0.9, 0.35 + 0.2 * best_dept[1]) if best_dept[1] else 0.25

        if urgency is None:
            best_urg = max(urgency_scores.items(), key=lambda kv: kv[1], default=("none", 0))
            urgency, urg_conf = (best_urg[0], min(0.9, 0.5 + 0.2 * best_urg[1])) if best_urg[1] else ("none", 0.6)
        else:
            urg_conf = 0.95

        neg, pos = len(words & _NEGATIVE), len(words & _POSITIVE)
        if rating is not None:
            sentiment = "negative" if rating <= 2 else "positive" if rating >= 4 else "neutral"
            sent_conf = 0.9
        elif neg > pos:
            sentiment, sent_conf = "negative", min(0.9, 0.5 + 0.1 * (neg - pos))
        elif pos > neg:
            sentiment, sent_conf = "positive", min(0.9, 0.5 + 0.1 * (pos - neg))
        else:
            sentiment, sent_conf = "neutral", 0.4

        actionable = intent in {i.value for i in ACTIONABLE_INTENTS}
        return Tags(
            intent=Scored(value=intent, confidence=intent_conf),
            actionable=Scored(value="yes" if actionable else "no", confidence=intent_conf),
            department=Scored(value=department, confidence=dept_conf),
            sentiment=Scored(value=sentiment, confidence=sent_conf),
            urgency=Scored(value=urgency, confidence=urg_conf),
            language=Scored(value="und", confidence=0.1),
            classifier=self.name,
        )
