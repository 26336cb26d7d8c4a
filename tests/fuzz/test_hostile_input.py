"""Property-based tests on every input boundary: each hostile input is a valid result, a validation
error or a dead-letter entry with a reason; never an unhandled exception.

The default run uses a few hundred examples per boundary; `pytest -m slow tests/fuzz` (SOCIALCARE_FUZZ_SCALE
examples per boundary, default 16,000; fewer for the costly config and feed parsers; with the agent API's
20,000 in tests/fuzz/test_agent_api.py, about 135,000 inputs in all) is the fuzz run at scale.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from socialcare.ingest.sinks import _SQS_INVALID, sqs_safe
from socialcare.ingest.text import strip_html

from tests.fuzz import strategies as s
from tests.fuzz import targets

QUICK = 150
SCALE = int(os.environ.get("SOCIALCARE_FUZZ_SCALE", "16000"))
# Parsing a whole brand configuration (YAML + validation) or a feed costs ~10-60x a post: fewer of those.
SCALE_SHARE = {"config": 0.2, "rss": 0.5}
_COMMON = {"deadline": None, "database": None, "suppress_health_check": list(HealthCheck)}


def _boundaries() -> list[tuple[str, Any, Any]]:
    return [
        ("x", s.mutated(s.X_POST, s.X_PATHS), lambda item, _: targets.x_post(item, s.X_USERS)),
        ("x-json", s.JSON, lambda item, _: targets.x_post(item)),
        (
            "mastodon",
            s.mutated(s.MASTODON_STATUS, s.MASTODON_PATHS),
            lambda item, _: targets.mastodon_status(item),
        ),
        ("bluesky", s.mutated(s.BLUESKY_POST, s.BLUESKY_PATHS), lambda item, _: targets.bluesky_post(item)),
        ("reddit", s.mutated(s.REDDIT_THING, s.REDDIT_PATHS), lambda item, _: targets.reddit_thing(item)),
        ("rss", s.feed_documents(), lambda item, _: targets.feed_document(item)),
        ("config", s.config_documents(), lambda item, _: targets.config_text(item)),
        ("intake", s.queue_bodies(), lambda item, env: targets.queue_body(item, *env)),
    ]


BOUNDARIES = _boundaries()


def _run(name: str, strategy: Any, check: Any, examples: int, env: Any) -> None:
    @settings(max_examples=examples, **_COMMON)
    @given(item=strategy)
    def run(item: Any) -> None:
        assert check(item, env) in {"ok", "dead", "rejected", "skipped"}

    before = targets.COUNTS.copy()
    run()
    counted = sum(targets.COUNTS.values()) - sum(before.values())
    assert counted >= min(examples, 50), (name, counted)


@pytest.mark.parametrize(("name", "strategy", "check"), BOUNDARIES, ids=[b[0] for b in BOUNDARIES])
def test_boundary_never_raises(name: str, strategy: Any, check: Any, intake_env: Any) -> None:
    _run(name, strategy, check, QUICK, intake_env)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "strategy", "check"), BOUNDARIES, ids=[b[0] for b in BOUNDARIES])
def test_boundary_never_raises_at_scale(name: str, strategy: Any, check: Any, intake_env: Any) -> None:
    _run(name, strategy, check, int(SCALE * SCALE_SHARE.get(name, 1.0)), intake_env)


# ------------------------------------------------------------------ specific hostile shapes
def test_oversized_and_deeply_nested_bodies_are_dead_lettered(intake_env: Any) -> None:
    intake, deps, routed = intake_env
    for body in (
        json.dumps({**s.MENTION, "text": "x" * 300_000}),
        s.deeply_nested(100_000),
        "[" * 1_000_000,
        "\udcff\udcfe not utf-8",
        "",
    ):
        assert targets.queue_body(body, intake, deps, routed) == "dead"
    reasons = [m["MessageAttributes"]["reason"]["StringValue"] for m in deps.sqs.sent]
    assert all(r.startswith("invalid mention") for r in reasons)
    assert not routed


def test_script_and_markup_never_survive_as_markup() -> None:
    for markup in (
        "<p>hi<script>alert(1)</script></p>",
        "<img src=x onerror=alert(1)>hello",
        "<style>*{}</style>ok",
        "<a href='javascript:alert(1)'>link</a>",
    ):
        text = strip_html(markup)
        assert "<script" not in text.lower() and "onerror" not in text and "javascript:" not in text
        assert "alert(1)" not in text or markup.startswith("<a")  # link text survives, the href does not


def test_path_like_ids_stay_keys_not_paths(intake_env: Any) -> None:
    from socialcare.models import Mention, case_id_for

    for ident in ("../../etc/passwd", "..%2f..%2f", "/absolute", "C:\\windows", "a/b/../../c"):
        m = Mention.model_validate({**s.MENTION, "id": ident})
        case_id = case_id_for(m.key)
        # The case id (also the execution name and what agents quote) is a fixed alphabet, never the raw id.
        assert re.fullmatch(r"SC-[A-Z2-9]{8}", case_id), case_id


@given(
    text=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=[]), max_size=50)
    | st.text(alphabet=st.characters(categories=["Cs", "Co", "Cn"]), max_size=10)
)
@settings(max_examples=300, **_COMMON)
def test_every_queued_body_is_one_sqs_accepts(text: str) -> None:
    from socialcare.models import Mention

    try:
        m = Mention.model_validate({**s.MENTION, "text": text})
    except ValueError:
        return
    body = sqs_safe(m.model_dump_json())
    assert not _SQS_INVALID.search(body)
    assert Mention.model_validate_json(body).text == m.text
