"""The layer's requirements file stays generated from pyproject.toml (the one source of truth)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _tool():
    spec = importlib.util.spec_from_file_location("layer_requirements", ROOT / "infra" / "layer_requirements.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_requirements_match_pyproject():
    tool = _tool()
    assert tool.problems(tool.REQUIREMENTS.read_text(encoding="utf-8")) == []


def test_a_changed_pin_in_pyproject_is_caught(monkeypatch):
    tool = _tool()
    text = tool.REQUIREMENTS.read_text(encoding="utf-8")
    wanted = tool.direct_dependencies()
    bumped = {**wanted, "pydantic": "pydantic==2.0.0"}
    monkeypatch.setattr(tool, "direct_dependencies", lambda: bumped)
    found = tool.problems(text)
    assert any("pydantic" in p for p in found)


def test_a_hand_edited_or_runtime_provided_line_is_caught():
    tool = _tool()
    text = tool.REQUIREMENTS.read_text(encoding="utf-8")
    assert any("botocore" in p for p in tool.problems(text + "botocore==1.0.0\n"))
    edited = text.replace("pydantic==", "pydantic==0.")
    assert any("pydantic" in p for p in tool.problems(edited))
    with pytest.raises(ValueError):
        tool.problems(text + "requests>=2\n")


def test_the_tracer_extra_and_its_sdk_are_shipped():
    tool = _tool()
    _, pins = tool.parse(tool.REQUIREMENTS.read_text(encoding="utf-8"))
    assert "aws-xray-sdk" in pins and "aws-lambda-powertools" in pins
    assert not tool.RUNTIME_PROVIDED & set(pins)
