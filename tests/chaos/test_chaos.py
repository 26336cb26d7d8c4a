"""`make chaos`: the pipeline under faults loses nothing and does nothing twice.

The default run pushes a few hundred mentions through the same faults; `pytest -m slow tests/chaos`
pushes 5,000 (SOCIALCARE_CHAOS_MENTIONS to change it).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from tests.chaos.harness import ChaosConfig, Report, run_chaos
from tests.faults import CANCELLATION_CODES


def _assert_holds(report: Report) -> None:
    text = "chaos report:\n  " + "\n  ".join(report.lines())
    print("\n" + text)
    out = Path(".local-stack")
    out.mkdir(exist_ok=True)
    (out / "chaos-report.txt").write_text(text + "\n", encoding="utf-8")
    assert report.mentions_lost == 0
    assert report.cases_opened_twice == 0
    assert report.customer_messages_sent_twice == 0
    assert report.platform_posts_sent_twice == 0  # counted on the platforms themselves
    assert report.platform_posts > 0 and report.outbound_states["sending"] == 0
    assert report.executions_stuck_no_timer == 0
    assert report.executions_dead_without_alarm == 0
    assert report.open_cases_without_workflow == 0
    assert report.bursts_doubled == 0
    assert report.router_index_reads == 0
    assert report.dead_letters_unaccounted == 0
    # Every dead letter left is one that can never be a mention, with its reason:
    assert report.dead_letters["mentions"].get("invalid", 0) == report.poison_bodies
    assert report.dead_letters["ingest"].get("unparseable", 0) == report.ingest_poison_items
    assert sum(report.dead_letters["mentions"].values()) == report.poison_bodies
    assert sum(report.dead_letters["department"].values()) == 0
    # The faults really happened, and the run did real work.
    for fault in (
        "dynamodb_throttled",
        "router_crash_after_commit",
        "poller_crash_after_cursor",
        "queue_failed_mid_page",
        "platform_429",
        "platform_5xx",
        "sqs_duplicate_delivery",
        "sqs_out_of_order",
        "poison_bodies",
        "transaction_storm",
        "concurrent_routers_one_conversation",
        "concurrent_routers_one_customer",
        "lambda_timeout_mid_batch",
        "crash_between_post_and_record_x",
        "crash_between_post_and_record_mastodon",
    ):
        assert report.faults[fault] > 0, fault
    assert sum(n for k, n in report.faults.items() if k.startswith("transaction_cancelled_")) > 0
    # Agents answered customers (the sent-twice invariant has something to check); a slow machine
    # lets more short-SLA cases go stale before an agent reaches them, so not necessarily all.
    assert report.cases > 0 and report.customer_messages >= min(report.cases, 20)
    assert report.token_reuse_rejected > 0 and report.token_reuse_accepted == 0


@pytest.fixture(autouse=True)
def _quiet() -> None:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # thousands of EMF lines would bury the report
    warnings.filterwarnings("ignore")
    import logging

    logging.getLogger("moto").setLevel(logging.CRITICAL)


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_short_chaos_run_loses_nothing_and_does_nothing_twice() -> None:
    report = run_chaos(
        ChaosConfig(
            mentions=90,
            wave=30,
            actionable_share=0.3,
            customers=25,
            ddb_throttle_every=150,
            ddb_storm_calls=6,
            duplicate_share=0.05,
        )
    )
    _assert_holds(report)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_chaos_5000_mentions() -> None:
    report = run_chaos(ChaosConfig(mentions=int(os.environ.get("SOCIALCARE_CHAOS_MENTIONS", "5000"))))
    _assert_holds(report)
    assert report.mentions_stored >= 5000
    assert report.faults["paging_loop"] > 0
    for code in CANCELLATION_CODES:  # every reason DynamoDB documents, at least once
        assert report.faults[f"transaction_cancelled_{code}"] > 0, code
