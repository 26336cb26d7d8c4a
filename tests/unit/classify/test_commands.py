"""`socialcare train | classify | evaluate` end to end on small files."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import pytest
from socialcare.classify import commands
from socialcare.cli import COMMAND_MODULES

from tests.unit.classify.conftest import tiny_records


def main(argv: list[str]) -> int:
    """The classifier's sub-commands as `socialcare` runs them (other capabilities left out)."""
    parser = argparse.ArgumentParser(prog="socialcare")
    commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_commands_are_registered_with_the_cli() -> None:
    assert "socialcare.classify.commands" in COMMAND_MODULES


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_train_then_evaluate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given labelled rows on disk
    data = _write_jsonl(tmp_path / "train.jsonl", tiny_records())
    model = tmp_path / "out" / "m.scm"
    # When trained
    assert main(["train", "--data", str(data), "--out", str(model)]) == 0
    assert model.is_file()
    assert "department=8" in capsys.readouterr().out
    # Then evaluate prints accuracy, macro-F1 and a confusion table per label
    assert main(["evaluate", "--model", str(model), "--data", str(data)]) == 0
    out = capsys.readouterr().out
    for label in ("sentiment", "department", "intent", "actionable", "urgency"):
        assert f"{label}: n=" in out
    assert "macro-F1=" in out and "truth \\ predicted" in out
    assert main(["evaluate", "--model", str(model), "--data", str(data), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["department"]["n"] == 8
    assert figures["sentiment"]["accuracy"] >= 0.9


def test_classify_keeps_one_line_per_line_in_order(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given mentions on stdin, including a broken line, bad UTF-8 and an empty text
    lines = [
        json.dumps({"id": 1, "text": "my bag never arrived"}).encode(),
        b"{not json",
        json.dumps({"id": 3, "text": ""}).encode(),
        b'{"id": 4, "text": "caf\xff lost \xc3 bag"}',
        json.dumps({"id": 5, "text": "thanks, lovely crew", "rating": 5}).encode(),
    ]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\n".join(lines) + b"\n")))
    # When classified
    code = main(["classify", "--model", str(tiny_model_path)])
    # Then there is one output line per input line, in order, with tags added
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1  # one line could not be read
    assert len(out) == 5
    assert [o.get("id") for o in out] == [1, None, 3, 4, 5]
    assert out[1]["line"] == 2 and "not JSON" in out[1]["error"]
    assert out[0]["tags"]["department"]["value"] == "baggage"
    assert out[2]["tags"]["intent"]["value"] == "noise"
    assert set(out[4]["tags"]) >= {"intent", "actionable", "department", "sentiment", "urgency", "language"}


def test_classify_from_file(tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _write_jsonl(tmp_path / "in.jsonl", [{"text": "flight cancelled tonight, please rebook me"}])
    assert main(["classify", "--model", str(tiny_model_path), "--input", str(data)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["tags"]["department"]["value"] == "operations"


def test_corrupt_model_is_reported_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "corrupt.scm"
    bad.write_bytes(b"garbage")
    assert main(["classify", "--model", str(bad), "--input", str(bad)]) == 1
    assert "corrupt.scm" in capsys.readouterr().err


def test_brand_heads_keep_the_words_the_multilingual_sentiment_head_drops(tmp_path: Path) -> None:
    from socialcare.classify.trained import load_model

    # Given rows where one word is seen once, with sentiment labels only
    rows = [
        {"text": f"the {w} was {'fine' if i % 2 else 'awful'}", "sentiment": "positive" if i % 2 else "negative"}
        for i, w in enumerate(["gate", "gate", "crew", "crew", "seat", "seat", "snackbox"])
    ]
    data = _write_jsonl(tmp_path / "s.jsonl", rows)
    general, brand = tmp_path / "general.scm", tmp_path / "brand.scm"
    # When trained with the default (multilingual) recipe and with a brand's own
    assert main(["train", "--data", str(data), "--labels", "sentiment", "--out", str(general)]) == 0
    assert main(["train", "--data", str(data), "--labels", "sentiment", "--brand-heads", "--out", str(brand)]) == 0
    # Then only the brand's head reads the word seen once
    assert "snackbox" not in load_model(general)._word_index  # noqa: SLF001
    assert "snackbox" in load_model(brand)._word_index  # noqa: SLF001
