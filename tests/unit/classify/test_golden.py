"""The shipped model on the hand-written golden set (never trained on): intent and actionable targets."""

from __future__ import annotations

from socialcare.classify import build_classifier
from socialcare.classify.commands import evaluate
from socialcare.config import load_config
from socialcare.settings import Settings

from tests.unit.classify.conftest import GOLDEN_DIR, read_jsonl


def test_golden_set_is_big_varied_and_apart_from_training() -> None:
    golden = read_jsonl(GOLDEN_DIR / "golden.jsonl")
    training = read_jsonl(GOLDEN_DIR / "intents_train.jsonl")
    assert len(golden) >= 200
    assert len({r["brand"] for r in golden}) >= 5
    assert len({r["lang"] for r in golden}) >= 5
    assert not {r["text"] for r in golden} & {r["text"] for r in training}


def test_shipped_model_meets_golden_targets() -> None:
    # Given the sample brand's classifier and the golden set
    clf = build_classifier(load_config(Settings().config_path))
    golden = read_jsonl(GOLDEN_DIR / "golden.jsonl")
    # When every mention is classified
    result = evaluate(clf, golden)
    # Then intent accuracy and actionable F1 meet the targets
    assert result["intent"].accuracy >= 0.85
    assert result["actionable"].per_class["_binary_f1_yes"]["f1"] >= 0.9
    assert result["urgency"].accuracy >= 0.8
