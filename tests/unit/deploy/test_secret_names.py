"""Secret names follow the stack: the template grants `secret:<stack>/*`, so no configuration may name
another stack's prefix."""

from __future__ import annotations

import re
from pathlib import Path

from socialcare.ingest.secrets import expand
from socialcare.settings import get_settings

ROOT = Path(__file__).resolve().parents[3]


def test_stack_placeholder_expands_to_the_stack_name(monkeypatch):
    monkeypatch.setenv("STACK_NAME", "care-eu")
    get_settings.cache_clear()
    try:
        assert expand("secretsmanager:{stack}/x-bearer") == "secretsmanager:care-eu/x-bearer"
        assert expand("ssm:/fixed/name") == "ssm:/fixed/name"
    finally:
        get_settings.cache_clear()


def test_packaged_configuration_names_no_stack_of_its_own():
    text = (ROOT / "layers/socialcare/socialcare/data/brand.yaml").read_text(encoding="utf-8")
    refs = re.findall(r'secret:\s*"?((?:secretsmanager|ssm):[^"\s]+)', text)
    assert refs
    for ref in refs:
        name = ref.split(":", 1)[1].lstrip("/")
        assert name.startswith("{stack}/"), ref
