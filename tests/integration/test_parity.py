"""The same service for everyone: reach never changes priority, clocks or queue position."""

from __future__ import annotations

from datetime import timedelta

import boto3
import pytest
from socialcare.agents import AgentClient
from socialcare.models import Author, case_id_for
from socialcare.reports.parity import parity, publish

from tests.builders import mention
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

TEXT = "@SkylarkAir my suitcase is lost and the baggage desk is closed, please help"


def _pair(small_first: bool):
    small = mention(TEXT, author=Author(id="small1" + str(small_first), handle="small", followers=10, verified=False))
    big = mention(
        TEXT, author=Author(id="big1" + str(small_first), handle="celebrity", followers=10_000_000, verified=True)
    )
    return (small, big) if small_first else (big, small)


def test_ten_followers_and_ten_million_get_the_same_priority_clocks_and_place_in_the_queue(stack, deps, send):
    # Given the same words from a 10-follower account and a verified 10-million-follower account
    first, second = _pair(small_first=True)
    send(first)
    send(second)
    a = wait_for(lambda: (c := deps.store.get_case(case_id_for(first.key))).token_fresh and c)
    b = wait_for(lambda: (c := deps.store.get_case(case_id_for(second.key))).token_fresh and c)
    # Then priority and every service level are identical
    assert a.author.followers == 10 and b.author.followers == 10_000_000
    assert a.priority == b.priority
    assert a.sla == b.sla
    assert (a.first_response_due - a.opened_at) == (b.first_response_due - b.opened_at)
    assert (a.resolution_due - a.opened_at) == (b.resolution_due - b.opened_at)
    assert a.clock.name == b.clock.name and a.clock.seconds == b.clock.seconds
    # And the queue is ordered by when each falls due (arrival), so the small account, first in, is first
    queue = [i.case_id for i in AgentClient(deps, "priya").queue("baggage") if i.case_id in {a.id, b.id}]
    assert queue == [a.id, b.id]
    assert abs((b.clock.due_at - a.clock.due_at) - (b.opened_at - a.opened_at)) < timedelta(seconds=1)


def test_when_the_big_account_writes_first_it_is_first_only_because_it_was_first(stack, deps, send):
    first, second = _pair(small_first=False)
    send(first)
    send(second)
    for m in (first, second):
        wait_for(lambda m=m: deps.store.get_case(case_id_for(m.key)).token_fresh)
    queue = [i.case_id for i in AgentClient(deps, "priya").queue("baggage")]
    assert queue.index(case_id_for(first.key)) < queue.index(case_id_for(second.key))


def test_parity_report_reaches_cloudwatch_per_band(stack, deps, send):
    first, second = _pair(small_first=True)
    send(first, second)
    report = parity(deps.store.scan_prefix("CASE#", "CASE"), deps.config.parity)
    assert report["bands"]["0-100"]["cases"] == 1 and report["bands"]["1M+"]["cases"] == 1
    assert publish(boto3.client("cloudwatch"), report) > 4
    names = {m["MetricName"] for m in boto3.client("cloudwatch").list_metrics(Namespace="SocialCare")["Metrics"]}
    assert {"ParitySlaMetPct", "ParityGapPct", "ParityGapExceeded", "ParityCases"} <= names
    alarms = boto3.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert any(a.get("MetricName") == "ParityGapExceeded" for a in alarms)


def test_the_parity_tally_moves_as_cases_close_and_matches_the_cases(stack, deps, send):
    # Given one small and one big account's cases, answered and resolved (one resolve sent twice)
    from socialcare.cases import tally
    from socialcare.reports.parity import parity_from_tally

    first, second = _pair(small_first=True)
    send(first, second)
    agent = AgentClient(deps, "priya")
    for m in (first, second):
        cid = case_id_for(m.key)
        wait_for(lambda cid=cid: deps.store.get_case(cid).token_fresh)
        agent.reply(cid, "Found it - on its way to you tonight.")
        for _ in range(2):
            agent.resolve(cid, "delivered", request_id=f"resolve-{cid}")
    # When the report reads the tally (one query on its partition, not the cases)
    report = parity_from_tally(tally.read(deps.store), deps.config.parity)
    # Then each band and the channel counted each closing once, with the answered times
    scanned = parity([c for c in deps.store.scan_prefix("CASE#", "CASE") if c.get("resolved_at")], deps.config.parity)
    for band in ("0-100", "1M+"):
        assert report["bands"][band]["cases"] == scanned["bands"][band]["cases"] == 1
        assert report["bands"][band]["sla_met_pct"] == scanned["bands"][band]["sla_met_pct"]
        exact = scanned["bands"][band]["first_response_p50_s"]
        # 10% buckets on (seconds + 1), both sides rounded to 0.01 s
        assert abs(report["bands"][band]["first_response_p50_s"] - exact) <= 0.05 * (exact + 1) + 0.01
    assert report["channels"]["x"]["cases"] == 2
    assert report["bands"]["100-10k"]["cases"] == 0
