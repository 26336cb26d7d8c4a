"""The Meta webhook under hostile input: forged or malformed signatures never verify, bodies of any
shape or encoding are queued, ignored or dead-lettered, and old deliveries are not replayed."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from socialcare.ingest import meta
from socialcare.ingest.sinks import MemoryDeadLetterSink, MemoryMentionSink, MemorySeenIndex

from tests.fuzz import strategies as s
from tests.fuzz import targets

SECRET = "app-secret-for-tests"
_COMMON = {"deadline": None, "database": None, "suppress_health_check": list(HealthCheck)}
SCALE = int(os.environ.get("SOCIALCARE_FUZZ_SCALE", "16000"))


def _sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _comment(entry_time: float, cid: str = "c1", text: str = "@skylark where is my bag") -> dict[str, Any]:
    return {
        "object": "page",
        "entry": [
            {
                "id": "p1",
                "time": int(entry_time),
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "comment_id": cid,
                            "post_id": "p1_1",
                            "message": text,
                            "from": {"id": "u1", "name": "Jane"},
                            "created_time": int(entry_time),
                        },
                    }
                ],
            }
        ],
    }


BODIES = st.one_of(
    st.binary(max_size=300),
    s.JSON.map(lambda d: json.dumps(d).encode()),
    st.builds(
        lambda t, cid, text: json.dumps(_comment(t, cid, text)).encode(),
        st.floats(min_value=0, max_value=4e9),
        s.TEXT,
        s.TEXT,
    ),
    st.integers(min_value=10, max_value=30_000).map(lambda n: s.deeply_nested(n).encode()),
    st.text(max_size=100).map(lambda t: t.encode("utf-16")),
)
HEADERS = st.one_of(
    st.none(),
    s.TEXT,
    st.just("sha256="),
    st.text(alphabet="0123456789abcdef", max_size=64).map(lambda h: "sha256=" + h),
)


def _deliver(body: bytes, header: str | None) -> str:
    targets.COUNTS["webhook"] += 1
    if not meta.signature_valid(SECRET, body, header):
        return "rejected"
    sink, dead = MemoryMentionSink(), MemoryDeadLetterSink()
    result = meta.accept_delivery(body, sink=sink, seen=MemorySeenIndex(), dead_letters=dead)
    for m in sink.mentions:
        targets._check_mention(m)
    assert result.queued == len(sink.mentions) and result.dead_lettered == len(dead.items)
    return "dead" if dead.items else "ok"


def _check(examples: int) -> None:
    @settings(max_examples=examples, **_COMMON)
    @given(body=BODIES, header=HEADERS, signed=st.booleans())
    def run(body: bytes, header: str | None, signed: bool) -> None:
        outcome = _deliver(body, _sign(body) if signed else header)
        if not signed:
            assert outcome == "rejected"  # a random or forged header never verifies

    run()


def test_webhook_never_raises_and_forged_signatures_never_verify() -> None:
    _check(300)


@pytest.mark.slow
def test_webhook_at_scale() -> None:
    _check(SCALE // 2)


def test_signature_is_checked_on_the_exact_bytes() -> None:
    body = json.dumps(_comment(time.time())).encode()
    assert meta.signature_valid(SECRET, body, _sign(body))
    assert not meta.signature_valid(SECRET, body + b" ", _sign(body))
    assert not meta.signature_valid(SECRET, body, _sign(body, "other-secret"))
    assert not meta.signature_valid(SECRET, body, _sign(body).upper().replace("SHA256=", "sha1="))


def test_old_deliveries_are_not_replayed_and_recent_replays_are_deduplicated() -> None:
    now = time.time()
    sink, dead, seen = MemoryMentionSink(), MemoryDeadLetterSink(), MemorySeenIndex()
    fresh = json.dumps(_comment(now - 60, "fresh")).encode()
    stale = json.dumps(_comment(now - meta.REPLAY_WINDOW_S - 60, "stale")).encode()
    first = meta.accept_delivery(fresh, sink=sink, seen=seen, dead_letters=dead, now=now)
    again = meta.accept_delivery(fresh, sink=sink, seen=seen, dead_letters=dead, now=now)
    old = meta.accept_delivery(stale, sink=sink, seen=seen, dead_letters=dead, now=now)
    assert (first.queued, again.queued, again.duplicates) == (1, 0, 1)
    assert (old.queued, old.replayed) == (0, 1)
    assert len(sink.mentions) == 1
