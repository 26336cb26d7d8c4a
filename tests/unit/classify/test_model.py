"""The model artifact: training round trip, determinism, and clear errors for broken files."""

from __future__ import annotations

from pathlib import Path

import pytest
from socialcare.classify.base import ClassifierError
from socialcare.classify.model import MAGIC, load, loads
from socialcare.classify.train import TrainParams, train

from tests.unit.classify.conftest import tiny_records


def test_tiny_model_learns_its_training_rows(tiny_model_bytes: bytes) -> None:
    # Given a model trained on a few rows
    model = loads(tiny_model_bytes)
    # When it predicts rows it has seen
    preds, coverage = model.predict("my bag never arrived, the suitcase is lost")
    # Then it gets them right and knows the words
    assert preds["department"].label == "baggage"
    assert preds["sentiment"].label == "negative"
    assert coverage == pytest.approx(1.0)
    assert {h.name for h in model.heads} == {"sentiment", "department", "intent", "actionable", "urgency"}


def test_training_is_deterministic() -> None:
    # Given the same rows twice, When trained, Then the artifacts are byte for byte equal
    assert train(tiny_records()) == train(tiny_records())


def test_null_labels_are_skipped_per_label(tiny_model_bytes: bytes) -> None:
    model = loads(tiny_model_bytes)
    # Department has labels only on the negative rows, and no "None" class is invented
    assert set(model.head("department").classes) == {"operations", "baggage", "reservations"}
    assert model.meta["trained_rows"]["department"] == 8
    assert model.meta["trained_rows"]["sentiment"] == 16


def test_probabilities_sum_to_one(tiny_model_bytes: bytes) -> None:
    model = loads(tiny_model_bytes)
    preds, _ = model.predict("thanks for a great flight")
    for p in preds.values():
        assert sum(p.probabilities.values()) == pytest.approx(1.0)
        assert 0.0 <= p.confidence <= 1.0


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda b: b"not a model at all", "bad magic"),
        (lambda b: b[: len(b) // 2], "corrupt"),
        (lambda b: b[:-10] + bytes(10), "corrupt"),
        (lambda b: MAGIC + b"\x00\x00\x00\x05{bad}", "unreadable"),
        (lambda b: b"", "bad magic"),
    ],
)
def test_a_broken_file_is_a_clear_error_naming_it(
    tmp_path: Path, tiny_model_bytes: bytes, mangle, message: str
) -> None:
    # Given a damaged artifact on disk
    path = tmp_path / "broken.scm"
    path.write_bytes(mangle(tiny_model_bytes))
    # When it is loaded, Then the error names the file and says what is wrong
    with pytest.raises(ClassifierError) as err:
        load(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ClassifierError, match="nope.scm"):
        load(tmp_path / "nope.scm")


def test_training_without_labels_is_an_error() -> None:
    with pytest.raises(ClassifierError, match="no labelled rows"):
        train([{"text": "hello"}])


def test_tuned_offsets_are_stored_in_the_model() -> None:
    # Given training asked to tune the sentiment offsets by cross-validation
    blob = train(tiny_records(), TrainParams(tune=("sentiment",), tune_folds=2))
    model = loads(blob)
    # Then the offsets are recorded, one per class, and folded into the head's biases
    offsets = model.meta["bias_offsets"]["sentiment"]
    assert set(offsets) == {"negative", "neutral", "positive"}
    assert all(-1.5 <= v <= 1.5 for v in offsets.values())


def test_tuning_a_stacked_head_is_refused_before_any_fitting() -> None:
    # intent reads sentiment's outputs: it has no out-of-fold scores of its own to tune on
    with pytest.raises(ClassifierError, match=r"cannot tune \['intent'\]: stacked on \['sentiment'\]"):
        train([{"text": "hello", "intent": "praise"}], TrainParams(tune=("department", "intent")))


def test_nb_ensemble_folds_into_the_artifact_exactly() -> None:
    # Given a head that averages the multinomial and NB one-vs-rest fits
    from socialcare.classify.train import HeadParams, featurise, fit_head

    records = tiny_records()
    docs = [featurise(r["text"]) for r in records]
    labels = [r["sentiment"] for r in records]
    fitted = fit_head("sentiment", docs, labels, HeadParams(c=5.0, nb=True))
    params = TrainParams(heads={"sentiment": HeadParams(c=5.0, nb=True)}, stack={}, prune={})
    model = loads(train(records, params, labels=("sentiment",)))
    # When the artifact scores the training texts
    # Then its probabilities are the training-time ensemble's, up to int16 quantisation
    for doc_probs, record in zip(fitted.proba(docs), records, strict=True):
        preds, _ = model.predict(record["text"])
        for c, p in zip(fitted.classes, doc_probs, strict=True):
            assert preds["sentiment"].probabilities[c] == pytest.approx(p, abs=1e-3)


def test_the_data_sets_word_replacement_is_undone() -> None:
    # Given the airline data set's "cancel" -> "Cancelled Flight", "late" -> "Late Flight" replacement
    from socialcare.classify.features import clean

    # When cleaned, Then the words read as real posts spell them; ordinary text is left alone
    assert clean("Cancelled Flightled again, Late Flightr, reLate Flightd") == "cancelled again, later, related"
    assert clean("my late flight was cancelled") == "my late flight was cancelled"


def test_words_spelt_with_combining_marks_are_one_token_each() -> None:
    # Given Hindi in Devanagari (vowel signs, virama, nukta), Arabic with vowel marks and an accent typed
    # as a separate mark: \w alone leaves those marks out and split "नहीं" into "नह", "ी", "ं"
    from socialcare.classify.features import char_words, tokens

    # When tokenised, Then each word is one token, and the danda still ends a sentence like a full stop
    assert tokens("पैसा वापस कीजिए, अभी तक नहीं आया। बढ़िया!") == [
        "पैसा",
        "वापस",
        "कीजिए",
        ",",
        "अभी",
        "तक",
        "नहीं",
        "आया",
        "।",
        "बढ़िया",
        "!",
    ]
    assert tokens("شكراً جزيلاً @مطعم #عاجل") == ["شكراً", "جزيلاً", "@مطعم", "#عاجل"]
    assert tokens("e\u0301clair don’t") == ["e\u0301clair", "don't"]
    # And their character n-grams are read, the danda's are not
    assert char_words(tokens("नहीं।")) == ["नहीं"]
