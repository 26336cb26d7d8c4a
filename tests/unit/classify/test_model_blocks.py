"""Weights stored in zlib blocks decoded on first use: the same numbers, the same predictions."""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from array import array
from pathlib import Path

import pytest
from socialcare.classify.base import ClassifierError
from socialcare.classify.model import MAGIC, BlockRows, Model, _le, load, loads
from socialcare.classify.trained import data_dir

from tests.unit.classify.conftest import GOLDEN_DIR, read_jsonl

ROUTING = Path(__file__).resolve().parents[2] / "data" / "routing" / "mentions.jsonl"


def _format1(model: Model) -> bytes:
    """``model`` written in the one-stream layout (format 1) that files trained before blocks use."""
    blobs = [
        "\n".join(model._word_index).encode("utf-8"),  # noqa: SLF001 - the test needs the raw parts
        "\n".join(model._char_index).encode("utf-8"),  # noqa: SLF001
        _le(model._word_weights[0 : len(model._word_weights)]),  # noqa: SLF001
        _le(model._char_weights[0 : len(model._char_weights)]),  # noqa: SLF001
    ]
    payload = zlib.compress(b"".join(blobs), 6)
    header = {
        "format": 1,
        "heads": [
            {"name": h.name, "classes": list(h.classes), "bias": list(h.bias), "offset": h.offset} for h in model.heads
        ],
        "scales": model.scales,
        "sizes": [len(b) for b in blobs],
        "counts": [len(model._word_index), len(model._char_index)],  # noqa: SLF001
        "sha256": hashlib.sha256(payload).hexdigest(),
        "meta": model.meta,
    }
    head = json.dumps(header).encode("utf-8")
    return MAGIC + struct.pack(">I", len(head)) + head + payload


def test_shipped_model_in_blocks_predicts_exactly_as_the_one_stream_layout() -> None:
    # Given the shipped artifact (blocks) and the same model re-written in the one-stream layout
    blocked = load(data_dir() / "model" / "airline.scm")
    assert isinstance(blocked._word_weights, BlockRows)  # noqa: SLF001
    dense = loads(_format1(loads((data_dir() / "model" / "airline.scm").read_bytes())), "<format 1>")
    assert isinstance(dense._word_weights, array)  # noqa: SLF001
    # When both score the golden and routing mentions, Then every probability of every head is equal
    texts = [r["text"] for r in read_jsonl(GOLDEN_DIR / "golden.jsonl")] + [r["text"] for r in read_jsonl(ROUTING)]
    assert len(texts) > 500
    for text in texts:
        assert blocked.predict_all(text) == dense.predict_all(text), text
    # And the weights decoded block by block are the one-stream weights, number for number
    assert blocked._word_weights.dense() == dense._word_weights  # noqa: SLF001
    assert blocked._char_weights.dense() == dense._char_weights  # noqa: SLF001


def test_slices_across_blocks_read_like_the_array() -> None:
    # Given a 10-row, 3-column matrix in blocks of 4 rows
    flat = array("h", range(-15, 15))
    blocks = [zlib.compress(_le(flat[i : i + 12])) for i in range(0, 30, 12)]
    rows = BlockRows(blocks, 3, 10, 4, "<test>")
    # Then any slice, inside one block or across several, is the array's slice
    assert len(rows) == 30
    for start, stop in [(0, 3), (9, 12), (10, 14), (3, 27), (0, 30), (27, 30)]:
        assert rows[start:stop] == flat[start:stop]
    assert rows.dense() == flat


def test_a_damaged_block_is_a_clear_error_naming_the_file() -> None:
    # Given a block that is not zlib data and one that decodes to the wrong size
    good = zlib.compress(_le(array("h", range(6))))
    with pytest.raises(ClassifierError, match=r"<m>.*unreadable weight block"):
        BlockRows([b"garbage"], 3, 2, 4, "<m>")[0:3]
    with pytest.raises(ClassifierError, match=r"<m>.*wrong size"):
        BlockRows([good], 3, 3, 4, "<m>")[0:3]
    with pytest.raises(ClassifierError, match=r"<m>.*2 weight blocks for 3 rows"):
        BlockRows([good, good], 3, 3, 4, "<m>")
