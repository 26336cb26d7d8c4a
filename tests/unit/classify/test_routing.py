"""Day-one routing: departments from what a brand's configuration says, with no labelled data."""

from __future__ import annotations

from pathlib import Path

import pytest
from socialcare.classify import build_classifier
from socialcare.classify.base import ClassifierError
from socialcare.classify.metrics import report
from socialcare.classify.routing import ZeroShotRouter
from socialcare.classify.trained import ModelClassifier
from socialcare.config import BrandConfig, load_config
from socialcare.models import Department, Tags

from tests.unit.classify.conftest import read_jsonl

ROOT = Path(__file__).resolve().parents[3]
BRANDS = {
    "Nimbus Mobile": ROOT / "examples" / "brands" / "nimbus_mobile.yaml",
    "Pixel Shop": ROOT / "examples" / "brands" / "pixel_shop.yaml",
    "Harbor Bank": ROOT / "examples" / "brands" / "harbor_bank.yaml",
}
MENTIONS = read_jsonl(ROOT / "tests" / "data" / "routing" / "mentions.jsonl")


@pytest.fixture(scope="module", params=sorted(BRANDS))
def brand(request: pytest.FixtureRequest) -> tuple[str, ModelClassifier]:
    clf = build_classifier(load_config(str(BRANDS[request.param])))
    assert isinstance(clf, ModelClassifier)
    return request.param, clf


def test_the_labelled_set_covers_every_department_of_every_sample_brand() -> None:
    assert len(MENTIONS) >= 300
    for name, path in BRANDS.items():
        labelled = {m["department"] for m in MENTIONS if m["brand"] == name}
        assert labelled == set(load_config(str(path)).department_names)


def test_sample_brand_routes_with_the_shipped_model_and_no_labelled_data(
    brand: tuple[str, ModelClassifier],
) -> None:
    # Given a brand the shipped model was never trained on
    name, clf = brand
    assert not clf.trained_departments
    rows = [m for m in MENTIONS if m["brand"] == name]
    # When its labelled mentions are routed, Then three in four or more reach the right department
    predicted = [clf.classify(m["text"]).department.value for m in rows]
    rep = report("department", [m["department"] for m in rows], predicted)
    assert rep.accuracy >= 0.75, rep.table()


@pytest.mark.parametrize(
    "text", ["", "   ", "😀🔥🔥", "\x00\x01\x02 \ufffd\ufffd", "x" * 100_000, "Привет мир hello مرحبا नमस्ते 你好"]
)
def test_odd_input_gets_a_department_with_low_confidence(brand: tuple[str, ModelClassifier], text: str) -> None:
    _, clf = brand
    tags = clf.classify(text)
    assert isinstance(tags, Tags)
    assert tags.department.confidence <= 0.5


def test_departments_without_description_or_examples_are_named_at_start_up() -> None:
    # Given a brand configuration whose departments say nothing about what they handle
    cfg = load_config(str(BRANDS["Pixel Shop"]))
    bare = cfg.model_copy(
        update={
            "departments": [
                *cfg.departments[:2],
                Department(name="vip", keywords=["vip"]),
                Department(name="misc"),
            ]
        }
    )
    # When the classifier is built, Then one clear error names both
    with pytest.raises(ClassifierError, match=r"\['vip', 'misc'\].*description"):
        build_classifier(bare)


def test_the_trained_head_is_used_only_for_the_brand_it_was_trained_for() -> None:
    from socialcare.settings import Settings

    airline = build_classifier(load_config(Settings().config_path))
    assert isinstance(airline, ModelClassifier)
    assert airline.trained_departments


def test_keywords_and_descriptions_in_another_language_route(brand: tuple[str, ModelClassifier]) -> None:
    name, clf = brand
    probe = {
        "Nimbus Mobile": ("la factura de este mes está mal", "billing"),
        "Pixel Shop": ("mon colis n'est jamais arrivé", "delivery"),
        "Harbor Bank": ("meine Karte wurde gesperrt", "cards"),
    }[name]
    assert clf.classify(probe[0]).department.value == probe[1]


def test_a_mention_with_nothing_in_common_gets_the_default_department() -> None:
    cfg: BrandConfig = load_config(str(BRANDS["Harbor Bank"]))
    dept, conf, probs = ZeroShotRouter(cfg).route("zzzz qqqq")
    assert dept == cfg.default_department
    assert conf < 0.3
    assert abs(sum(probs.values()) - 1.0) < 1e-6


def test_heads_a_routed_brand_never_reads_are_skipped_and_its_tags_do_not_change(
    brand: tuple[str, ModelClassifier],
) -> None:
    # Given a brand routed from its configuration, and the same classifier computing every head
    name, clf = brand
    assert clf._heads is not None and {"department", "brand_sentiment"}.isdisjoint(clf._heads)  # noqa: SLF001
    every_head = ModelClassifier(clf._config, clf.model)  # noqa: SLF001
    every_head._heads = None  # noqa: SLF001
    # When both classify the brand's mentions
    texts = [m["text"] for m in MENTIONS if m["brand"] == name]
    # Then the tags are the same, and the heads intent and actionable stack on are still computed
    assert [clf.classify(t) for t in texts] == [every_head.classify(t) for t in texts]
    plan = [step[0] for step in clf.model.plan_for(frozenset({"intent"}))]
    assert plan == ["sentiment", "intent"]
