"""A brand's own head grafted beside the general one: used for that brand's posts, nobody else's."""

from __future__ import annotations

import pytest
from socialcare.classify.base import ClassifierError
from socialcare.classify.commands import config_for_model
from socialcare.classify.model import loads
from socialcare.classify.train import graft, train
from socialcare.classify.trained import ModelClassifier

from tests.unit.classify.conftest import tiny_records

FLIP = {"negative": "positive", "positive": "negative", "neutral": "neutral"}


@pytest.fixture(scope="module")
def grafted(tiny_model_bytes: bytes) -> bytes:
    # A donor whose sentiment is the opposite of the base's, so it is visible which head answered
    donor = train([{**r, "sentiment": FLIP[r["sentiment"]]} for r in tiny_records()], labels=("sentiment",))
    return graft(tiny_model_bytes, donor, "sentiment", "brand_sentiment")


def test_graft_keeps_every_base_head_and_adds_the_donor_head(tiny_model_bytes: bytes, grafted: bytes) -> None:
    base, model = loads(tiny_model_bytes), loads(grafted)
    assert [h.name for h in model.heads] == [h.name for h in base.heads] + ["brand_sentiment"]
    text = "my bag never arrived and nobody helps"
    before, after = base.predict(text)[0], model.predict(text)[0]
    for name in ("sentiment", "department", "intent", "actionable", "urgency"):
        assert after[name].label == before[name].label
        assert after[name].confidence == pytest.approx(before[name].confidence, abs=1e-3)
    assert after["brand_sentiment"].label == "positive"  # the flipped donor


def test_the_brand_head_answers_for_its_own_brand_only(grafted: bytes) -> None:
    model = loads(grafted)
    own = ModelClassifier(config_for_model(model), model)  # the departments the model was trained on
    other_cfg = config_for_model(model).model_copy(deep=True)
    other_cfg.departments = other_cfg.departments[:2]
    for d in other_cfg.departments:
        d.description = f"{d.name} problems"
    other_cfg.default_department = other_cfg.departments[0].name
    other = ModelClassifier(other_cfg, model)
    text = "thank you for the lovely crew and great service"
    assert own.classify(text).sentiment.value == "negative"  # the brand's (flipped) head
    assert other.classify(text).sentiment.value == "positive"  # the general head


def test_grafting_a_missing_head_is_a_clear_error(tiny_model_bytes: bytes) -> None:
    with pytest.raises(ClassifierError, match="no 'language' head"):
        graft(tiny_model_bytes, tiny_model_bytes, "language", "x")
