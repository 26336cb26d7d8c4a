"""The default back end: the trained model artifact, with the brand's rules on top.

The model gives each label a probability; the brand configuration has the last word where it needs
certainty (its regex rules, a 1-2 star review). Departments come from the model's department head
when it was trained on this brand's departments, else from the configuration's descriptions,
keywords and examples (``routing``), so any brand can use the shipped model on day one.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from socialcare.classify.base import ClassifierError
from socialcare.classify.language import detect
from socialcare.classify.model import Model, Prediction, featurise_text, load

if TYPE_CHECKING:
    from collections.abc import Callable

    from socialcare.classify.learned import LearnedRouting
    from socialcare.config import BrandConfig
    from socialcare.models import Tags

_ACTIONABLE = frozenset({"request", "complaint", "question"})
_URGENCIES = frozenset({"none", "safety", "outage", "money_lost", "travel_today"})
_INTENTS = frozenset({"request", "complaint", "question", "venting", "praise", "reputation", "noise"})


def data_dir() -> Path:
    """The package data directory, wherever the package is installed (a Lambda layer, a venv): beside
    the package's modules, read through ``__file__`` (importlib.resources would import tempfile, shutil,
    bz2 and lzma into the model's import)."""
    return Path(__file__).parent.parent / "data"


def resolve_model_path(model_path: str) -> Path:
    """Absolute paths are used as they are; relative ones name a file under the package data directory
    (``model/airline.scm``), falling back to the working directory for models trained locally."""
    p = Path(model_path).expanduser()
    if p.is_absolute():
        return p
    for candidate in (data_dir() / p, Path.cwd() / p):
        if candidate.is_file():
            return candidate
    raise ClassifierError(
        f"model file {model_path!r} not found under the package data directory {data_dir()} "
        f"nor the working directory {Path.cwd()}"
    )


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int) -> Model:
    return load(path)


def load_model(path: str | Path) -> Model:
    """Load (once per process and file version) the artifact at ``path``."""
    p = Path(path)
    try:
        mtime = p.stat().st_mtime_ns
    except OSError as exc:
        raise ClassifierError(f"model {p}: cannot read ({exc.strerror or exc})") from exc
    return _load_cached(str(p), mtime)


def _joint_intent(intent: Prediction, actionable: Prediction | None) -> tuple[str, float, float | None]:
    """Intent that agrees with the actionable head: argmax of P(intent) x P(actionable of that intent),
    and the share of that joint distribution on actionable intents (None without an actionable head).

    The binary actionable head is trained on the same rows but has an easier job, so it corrects
    the intent head where they disagree (venting that reads like a complaint, news that reads like one);
    the intent head in turn corrects it (cross-validated on the training mentions: actionable F1 0.897
    from the head alone, 0.907 from the joint share).
    """
    if actionable is None:
        return intent.label, intent.confidence, None
    p_yes = actionable.probabilities.get("yes", 0.5)
    joint = {c: p * (p_yes if c in _ACTIONABLE else 1.0 - p_yes) for c, p in intent.probabilities.items()}
    z = sum(joint.values()) or 1.0
    best = max(joint, key=joint.__getitem__)
    return best, joint[best] / z, sum(p for c, p in joint.items() if c in _ACTIONABLE) / z


def _scored(value: str, confidence: float) -> dict[str, object]:
    return {"value": value, "confidence": round(max(0.0, min(1.0, confidence)), 4)}


class ModelClassifier:
    """Tags from the trained model; brand rules and review ratings override where they apply."""

    name = "model"

    def __init__(
        self, config: BrandConfig, model: Model, learned: Callable[[], LearnedRouting | None] | None = None
    ) -> None:
        from socialcare.classify.rules import BrandRules, RuleClassifier, normalise
        from socialcare.models import Tags

        self._config = config
        self._normalise = normalise
        self._tags = Tags
        self.model = model
        self._fallback = RuleClassifier(config)
        self._rules = BrandRules(config.rules)
        # The trained department head routes only for the brand it was trained for (the same
        # departments); any other brand is routed from its own configuration on day one.
        head = model.head("department")
        self.trained_departments = head is not None and set(head.classes) == set(config.department_names)
        self._router = None
        # The brand's department head learned from its agents (``learned``), read on first use so that
        # functions that never classify never read it.
        self._learned_loader = learned
        grafted = (model.meta.get("grafted") or {}).get("brand_sentiment") or {}
        self._brand_language = str(grafted.get("language") or "en")
        # The heads classify reads (None: all of them).
        self._heads: frozenset[str] | None = None
        if not self.trained_departments:
            from socialcare.classify.routing import ZeroShotRouter

            self._router = ZeroShotRouter(config)
            # Routed from its configuration: the department head, and the brand sentiment head that
            # rides with it, are never read, so their probabilities are not computed.
            self._heads = frozenset(h.name for h in model.heads) - {"department", "brand_sentiment"}
        # Heads classify reads only the label and confidence of (no distribution is built for them);
        # a learned head blends the department head's whole distribution.
        self._labels_only = frozenset(
            {"urgency", "language", "brand_sentiment"} | ({"department"} if learned is None else set())
        )
        for name, allowed in (("intent", _INTENTS), ("urgency", _URGENCIES), ("actionable", {"yes", "no"})):
            h = model.head(name)
            if h is not None and not set(h.classes) <= allowed:
                raise ClassifierError(
                    f"model {model.source}: {name} classes {list(h.classes)} are not {sorted(allowed)}"
                )

    @classmethod
    def from_path(
        cls, config: BrandConfig, model_path: str, learned: Callable[[], LearnedRouting | None] | None = None
    ) -> ModelClassifier:
        return cls(config, load_model(resolve_model_path(model_path)), learned)

    @property
    def learned(self) -> LearnedRouting | None:
        # Asked on every mention: the loader decides when to read the table again (the deployed one,
        # LearnedRoutingSource, re-checks every few minutes).
        return self._learned_loader() if self._learned_loader is not None else None

    def department_probabilities(self, text: str, words: list[str] | None = None) -> dict[str, float]:
        """The routing before anything learned from agents: the trained head or the configuration."""
        if self._router is not None:
            return self._router.route(text, words)[2]
        p, _ = self.model.predict(text)
        head = p.get("department")
        if head is None:
            return dict.fromkeys(self._config.department_names, 1.0 / len(self._config.department_names))
        return {d: head.probabilities.get(d, 0.0) for d in self._config.department_names}

    def classify(self, text: str, *, platform: str | None = None, rating: int | None = None) -> Tags:
        if not isinstance(text, str):
            text = bytes(text).decode("utf-8", errors="replace") if isinstance(text, bytes | bytearray) else ""
        features = featurise_text(text)
        preds, coverage, words = self.model.predict_all(text, features, self._heads, self._labels_only)
        get = preds.get
        lang, lang_conf = detect(text, words, get("language"), coverage)
        # Words the model never saw (another language, gibberish) make every tag less certain.
        trust = 0.35 + 0.65 * coverage
        fallback = None

        def rule_tags() -> Tags:
            nonlocal fallback
            if fallback is None:
                fallback = self._fallback.classify(text, platform=platform, rating=rating)
            return fallback

        tags: dict[str, dict[str, object]] = {}
        has_words = bool(words)
        clean: str | None = None  # the normalised text, for the router and the rules, made once

        p = get("intent")
        p_actionable = None
        if not has_words:
            tags["intent"] = _scored("noise", 0.3)
        elif p is not None:
            label, conf, p_actionable = _joint_intent(p, get("actionable"))
            tags["intent"] = _scored(label, conf * trust)
        else:
            tags["intent"] = rule_tags().intent.model_dump()

        p = get("sentiment")
        # A brand's own sentiment head (trained on its labelled mentions, in its language) reads that
        # brand's posts better than the general multilingual head; it rides with the brand's departments.
        own = get("brand_sentiment")
        if own is not None and self.trained_departments and lang == self._brand_language:
            p = own
        if p is not None and has_words:
            tags["sentiment"] = _scored(p.label, p.confidence * trust)
        elif has_words:
            tags["sentiment"] = rule_tags().sentiment.model_dump()
        else:
            tags["sentiment"] = _scored("neutral", 0.3)

        p = get("department")
        learned = self.learned if has_words else None
        if learned is not None:
            if self._router is not None:
                clean = self._normalise(text)  # the rules below reuse it
                base = self._router.route(text, words, clean)[2]
            elif p is not None:
                base = {d: p.probabilities.get(d, 0.0) for d in self._config.department_names}
            else:
                base = self.department_probabilities(text, words)
            dept, conf, _ = learned.blend(text, base, features)
            tags["department"] = _scored(dept, conf)
        elif self._router is not None and has_words:
            clean = self._normalise(text)
            dept, conf, _ = self._router.route(text, words, clean)
            tags["department"] = _scored(dept, conf)
        elif p is not None and has_words:
            tags["department"] = _scored(p.label, p.confidence * trust)
        elif has_words:
            tags["department"] = rule_tags().department.model_dump()
        else:
            tags["department"] = _scored(self._config.default_department, 0.1)

        p = get("urgency")
        if p is not None and has_words:
            tags["urgency"] = _scored(p.label, p.confidence * trust)
        elif has_words:
            tags["urgency"] = rule_tags().urgency.model_dump()
        else:
            tags["urgency"] = _scored("none", 0.3)

        p = get("actionable")
        if not has_words:
            tags["actionable"] = _scored("no", 0.3)
        elif p_actionable is not None:
            yes = p_actionable > 0.5
            tags["actionable"] = _scored("yes" if yes else "no", (p_actionable if yes else 1.0 - p_actionable) * trust)
        elif p is not None:
            tags["actionable"] = _scored(p.label, p.confidence * trust)
        else:
            intent = tags["intent"]
            tags["actionable"] = _scored("yes" if intent["value"] in _ACTIONABLE else "no", float(intent["confidence"]))

        # The brand's rules win where they match.
        if self._rules and has_words:
            for name, value in self._rules.decide(self._normalise(text) if clean is None else clean).items():
                tags[name] = _scored(value, 0.95)
                if name == "intent":
                    tags["actionable"] = _scored("yes" if value in _ACTIONABLE else "no", 0.95)

        # A 1-2 star review is a complaint however politely it is worded; 4-5 stars is praise-level sentiment.
        if rating is not None:
            if rating <= 2:
                tags["intent"] = _scored("complaint", max(0.8, float(tags["intent"]["confidence"])))
                tags["actionable"] = _scored("yes", 0.85)
                tags["sentiment"] = _scored("negative", 0.9)
            elif rating >= 4:
                tags["sentiment"] = _scored("positive", 0.9)
            else:
                tags["sentiment"] = _scored("neutral", 0.7)

        # One validation of the whole nested structure (pydantic-core does it in a single call).
        tags["language"] = {"value": lang, "confidence": lang_conf}
        tags["classifier"] = self.name  # type: ignore[assignment]
        return self._tags.model_validate(tags)
