"""The demo's sample posts work on any date, and an incomplete demo run says why in one line."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

from socialcare.local.demo import demo_data_dir, handler_failures, load_posts, why_incomplete


def _recorded() -> list[dict]:
    lines = (demo_data_dir() / "mentions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_sample_posts_are_timestamped_relative_to_now_keeping_order_and_spacing() -> None:
    # Given the recorded sample posts, and a day years after they were written
    recorded = _recorded()
    now = datetime(2031, 2, 28, 23, 59, 30, 123456, tzinfo=UTC)
    # When they are loaded to be served then
    posts = load_posts(now=now)
    # Then the newest is from that moment (to the second), none is from the future,
    newest = max(p["created_at"] for p in posts)
    assert timedelta(0) <= now - newest < timedelta(seconds=1)
    # and every post keeps its id, text, order and distance to the others
    assert [p["id"] for p in posts] == [p["id"] for p in recorded]
    assert [p["text"] for p in posts] == [p["text"] for p in recorded]
    shift = posts[0]["created_at"] - _at(recorded[0]["created_at"])
    assert all(p["created_at"] - _at(r["created_at"]) == shift for p, r in zip(posts, recorded, strict=True))


def _report(served: int, ingested: int, lost: int = 0, dlq: int = 0) -> dict:
    return {"mentions_served": served, "mentions_ingested": ingested, "lost_mentions": lost, "dlq_messages": dlq}


def test_a_complete_run_has_nothing_to_explain() -> None:
    posts = load_posts()
    report = _report(len(posts), len(posts))
    assert why_incomplete(report, posts, Counter(), datetime.now(UTC), 7 * 86400) is None


def test_posts_older_than_the_backfill_window_are_named_as_the_reason() -> None:
    # Given the sample posts as recorded eight days before the first poll
    posts = load_posts(now=datetime(2026, 11, 22, 10, tzinfo=UTC))
    first_poll = datetime(2026, 11, 30, 10, tzinfo=UTC)
    # When none of them was ingested
    reason = why_incomplete(_report(len(posts), 0, lost=len(posts)), posts, Counter(), first_poll, 7 * 86400)
    # Then the one line says how many and which window
    assert reason == f"{len(posts)} posts are older than the source's 7-day backfill window"


def test_connector_failures_and_dead_letters_are_named() -> None:
    posts = load_posts()
    now = datetime.now(UTC)
    failed = why_incomplete(_report(len(posts), 10, lost=len(posts) - 10), posts, Counter(poll_errors=3), now, 86400)
    assert failed is not None and "the X connector failed 3 times" in failed
    dead = why_incomplete(_report(len(posts), len(posts), dlq=2), posts, Counter(), now, 86400)
    assert dead is not None and dead.startswith("2 messages went to the dead-letter queues")
    lost = why_incomplete(_report(len(posts), len(posts) - 1, lost=1), posts, Counter(), now, 86400)
    assert (
        lost
        == f"1 of {len(posts)} served mentions never reached the mentions table (see .local-stack/demo-handlers.log)"
    )


def test_an_incomplete_run_names_the_handlers_failures_most_frequent_first(tmp_path) -> None:
    # Given a handler log with metrics, info lines, a torn line and two kinds of logged failure
    failed = {"level": "WARNING", "message": "mention failed; it returns to the queue"}
    lines = [
        json.dumps({"_aws": {}, "MentionsRouted": [1.0]}),
        json.dumps({"level": "INFO", "message": "case opened", "error": "not a failure"}),
        *[json.dumps({**failed, "error": "RouteRaceError: mention x#1 kept changing"})] * 5,
        json.dumps({**failed, "error": "ClientError: ThrottlingException"}),
        '{"level": "WARNING", "error": "torn',
    ]
    log = tmp_path / "demo-handlers.log"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # When the failed run's summary is built
    failures = handler_failures(log)
    # Then each logged failure is counted once per line, the most frequent first
    assert failures == [
        (5, "mention failed; it returns to the queue: RouteRaceError: mention x#1 kept changing"),
        (1, "mention failed; it returns to the queue: ClientError: ThrottlingException"),
    ]
