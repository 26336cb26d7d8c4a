"""Builders for classifier tests: a tiny model trained in a second, and the shipped brand model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from socialcare.classify.train import train

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "data" / "golden"


def tiny_records() -> list[dict]:
    """A few hand-written mentions with every label, enough to exercise training end to end."""
    rows = [
        (
            "my flight is delayed again and nobody tells us anything",
            "negative",
            "operations",
            "complaint",
            "none",
        ),
        (
            "flight cancelled tonight, please rebook me now",
            "negative",
            "operations",
            "request",
            "travel_today",
        ),
        ("the gate changed twice and the delay keeps growing", "negative", "operations", "complaint", "none"),
        ("my bag never arrived, the suitcase is lost", "negative", "baggage", "complaint", "none"),
        ("please find my luggage, it has been three days", "negative", "baggage", "request", "none"),
        ("the suitcase handle arrived broken", "negative", "baggage", "complaint", "none"),
        ("thank you for the lovely crew and a smooth flight", "positive", None, "praise", "none"),
        ("great service, thanks so much", "positive", None, "praise", "none"),
        ("love flying with you, amazing staff", "positive", None, "praise", "none"),
        ("what time does check-in open?", "neutral", None, "question", "none"),
        ("can I bring a stroller on board?", "neutral", None, "question", "none"),
        ("is there wifi on the flight?", "neutral", None, "question", "none"),
        ("win free crypto, click the link", "neutral", None, "noise", "none"),
        ("follow back for a giveaway", "neutral", None, "noise", "none"),
        ("you charged me twice, refund my money", "negative", "reservations", "request", "money_lost"),
        (
            "double charged on my booking, I want the money back",
            "negative",
            "reservations",
            "complaint",
            "money_lost",
        ),
    ]
    out = []
    for text, sentiment, department, intent, urgency in rows:
        actionable = "yes" if intent in {"request", "complaint", "question"} else "no"
        out.append(
            {
                "text": text,
                "sentiment": sentiment,
                "department": department,
                "intent": intent,
                "actionable": actionable,
                "urgency": urgency,
            }
        )
    return out


@pytest.fixture(scope="session")
def tiny_model_bytes() -> bytes:
    return train(tiny_records())


@pytest.fixture()
def tiny_model_path(tmp_path: Path, tiny_model_bytes: bytes) -> Path:
    path = tmp_path / "tiny.scm"
    path.write_bytes(tiny_model_bytes)
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
