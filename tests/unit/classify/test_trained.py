"""The shipped brand model behind the Classifier port: rules on top, odd input, path resolution."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from socialcare.classify import build_classifier
from socialcare.classify.base import ClassifierError
from socialcare.classify.trained import ModelClassifier, data_dir, resolve_model_path
from socialcare.config import BrandConfig, load_config
from socialcare.models import Tags
from socialcare.settings import Settings

SAMPLE = Settings().config_path


@pytest.fixture(scope="module")
def config() -> BrandConfig:
    return load_config(SAMPLE)


@pytest.fixture(scope="module")
def clf(config: BrandConfig) -> ModelClassifier:
    built = build_classifier(config)
    assert isinstance(built, ModelClassifier)
    return built


def test_sample_brand_uses_the_shipped_model(config: BrandConfig) -> None:
    # Given the sample brand configuration, Then it names a model that ships in the package data
    assert config.classifier.backend == "model"
    assert resolve_model_path(config.classifier.model_path).is_relative_to(data_dir())
    assert resolve_model_path(config.classifier.model_path).stat().st_size <= 10_000_000


@pytest.mark.parametrize(
    ("text", "department", "sentiment"),
    [
        (
            "@SkylarkAir my flight to Denver was cancelled and nobody at the desk can rebook me",
            "operations",
            "negative",
        ),
        ("@SkylarkAir two days and my suitcase still hasn't been delivered", "baggage", "negative"),
        ("@SkylarkAir thanks for a lovely flight, the crew were wonderful", None, "positive"),
    ],
)
def test_everyday_mentions(clf: ModelClassifier, text: str, department: str | None, sentiment: str) -> None:
    tags = clf.classify(text)
    assert tags.classifier == "model"
    assert tags.sentiment.value == sentiment
    if department:
        assert tags.department.value == department
    assert tags.language.value == "en"


def test_brand_rule_overrides_the_model(clf: ModelClassifier) -> None:
    # Given the brand rule "refund" -> reservations, When a bag complaint asks for a refund
    tags = clf.classify("my bag was lost on the flight, I want a refund")
    # Then the rule decides the department, with high confidence
    assert tags.department.value == "reservations"
    assert tags.department.confidence >= 0.9


def test_a_polite_one_star_review_is_a_complaint(clf: ModelClassifier) -> None:
    tags = clf.classify("The crew were kind, thank you, but the seat was a little small.", rating=1)
    assert tags.intent.value == "complaint"
    assert tags.is_actionable
    assert tags.sentiment.value == "negative"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "😀😀🔥", "https://t.co/abc http://example.com/x", "<p><br/></p>", "!!! ??? ..."],
)
def test_nothing_to_read_is_noise_with_low_confidence(clf: ModelClassifier, text: str) -> None:
    tags = clf.classify(text)
    assert tags.intent.value == "noise"
    assert tags.actionable.value == "no"
    assert tags.language.value == "und"
    assert tags.language.confidence <= 0.2


def test_unseen_language_gets_low_confidence(clf: ModelClassifier) -> None:
    known = clf.classify("my flight was cancelled and nobody helps me")
    unseen = clf.classify("Lentoni peruttiin eikä kukaan auta minua lentokentällä")
    assert unseen.language.value == "und"
    assert unseen.intent.confidence < known.intent.confidence
    assert unseen.sentiment.confidence < 0.6


def test_huge_html_and_broken_utf8_never_raise(clf: ModelClassifier) -> None:
    long_text = "my bag is lost " * 700  # over 10,000 characters
    assert len(long_text) > 10_000
    assert clf.classify(long_text).department.value == "baggage"
    assert clf.classify("<div><b>Flight</b> &amp; bag <script>x</script> lost</div>").sentiment.value
    broken = b"my bag \xff\xfe is lost \xc3".decode("utf-8", errors="replace")
    assert isinstance(clf.classify(broken), Tags)
    assert isinstance(clf.classify(b"raw \xff bytes"), Tags)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_valid_tags(clf: ModelClassifier, text: str) -> None:
    tags = clf.classify(text)
    for name in ("intent", "actionable", "department", "sentiment", "urgency", "language"):
        assert 0.0 <= getattr(tags, name).confidence <= 1.0


def test_model_for_another_brand_routes_from_the_configuration(tiny_model_path: Path, config: BrandConfig) -> None:
    # Given a brand whose departments differ from those the model was trained on
    other = config.model_copy(
        update={"departments": [d for d in config.departments if d.name != "baggage"], "rules": []}
    )
    # When the classifier is built, Then it does not refuse: departments come from the configuration
    clf = ModelClassifier.from_path(other, str(tiny_model_path))
    assert not clf.trained_departments
    tags = clf.classify("the wifi on board was down and the crew ignored us")
    assert tags.department.value == "inflight"


def test_missing_model_path_names_where_it_looked(config: BrandConfig) -> None:
    broken = config.model_copy(
        update={"classifier": config.classifier.model_copy(update={"model_path": "no/such.scm"})}
    )
    with pytest.raises(ClassifierError, match="no/such.scm"):
        build_classifier(broken)


def test_absolute_model_path_is_used_as_is(tiny_model_path: Path, config: BrandConfig) -> None:
    cfg = config.model_copy(
        update={"classifier": config.classifier.model_copy(update={"model_path": str(tiny_model_path)})}
    )
    assert build_classifier(cfg).model.source == str(tiny_model_path)


def test_rules_backend_still_works(config: BrandConfig) -> None:
    cfg = config.model_copy(update={"classifier": config.classifier.model_copy(update={"backend": "rules"})})
    assert build_classifier(cfg).classify("my suitcase is lost").classifier == "rules"


def test_inference_needs_neither_numpy_nor_scikit_learn() -> None:
    # Given a fresh interpreter, When the sample brand's classifier tags a mention
    code = (
        "import sys; from socialcare.classify import build_classifier; "
        "from socialcare.config import load_config; from socialcare.settings import Settings; "
        "build_classifier(load_config(Settings().config_path)).classify('my bag is lost'); "
        "print(sorted(m for m in ('numpy', 'scipy', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    # Then none of the training libraries was imported
    assert out.stdout.strip() == "[]"


def test_actionable_follows_the_joint_of_intent_and_actionable_heads() -> None:
    from socialcare.classify.model import Prediction
    from socialcare.classify.trained import _joint_intent

    # Given an intent head fairly sure of a complaint and an actionable head slightly leaning "no"
    intent = Prediction("complaint", 0.8, {"complaint": 0.8, "venting": 0.15, "noise": 0.05})
    actionable = Prediction("no", 0.55, {"yes": 0.45, "no": 0.55})
    # When they are decoded together
    label, confidence, p_actionable = _joint_intent(intent, actionable)
    # Then the joint says complaint, and most of its mass is actionable (0.36 against 0.11)
    assert label == "complaint"
    assert p_actionable == pytest.approx(0.36 / 0.47)
    assert confidence == pytest.approx(0.36 / 0.47)
    # And without an actionable head the intent head stands alone
    assert _joint_intent(intent, None) == ("complaint", 0.8, None)


def test_actionable_tag_and_intent_agree_on_clear_mentions(clf: ModelClassifier) -> None:
    # Given clear mentions of every kind, When classified, Then the actionable tag is what the intent says
    texts = [
        "@SkylarkAir my flight was cancelled, please rebook me",
        "Thanks @SkylarkAir, lovely crew and we landed early",
        "Skylark Air shares fall 3% after the quarterly results",
        "Airports on a Monday morning. Why do I do this to myself",
        "@SkylarkAir can I bring a guitar as hand luggage?",
    ]
    for text in texts:
        tags = clf.classify(text)
        intent_actionable = tags.intent.value in {"request", "complaint", "question"}
        assert (tags.actionable.value == "yes") == intent_actionable, (text, tags.intent, tags.actionable)
