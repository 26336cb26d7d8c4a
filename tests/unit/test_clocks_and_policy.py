from __future__ import annotations

from datetime import UTC, datetime, timedelta

from socialcare.cases import clocks, policy
from socialcare.classify.rules import RuleClassifier
from socialcare.config import load_config
from socialcare.models import Author, Case, Scored, SlaPolicy, Tags, case_id_for
from socialcare.settings import settings_from_env

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
SLA = SlaPolicy(first_response_s=60, next_update_s=120, resolution_s=600, escalation_tiers_s=[30])


def _tags() -> Tags:
    s = Scored(value="x", confidence=0.5)
    return Tags(
        intent=Scored(value="complaint", confidence=0.8),
        actionable=Scored(value="yes", confidence=0.8),
        department=Scored(value="baggage", confidence=0.8),
        sentiment=s,
        urgency=Scored(value="none", confidence=0.6),
        language=s,
    )


def _case(**kw) -> Case:
    base = dict(
        id="SC-1",
        mention_key="x#1",
        customer_key="x#u",
        platform="x",
        author=Author(id="u", handle="h"),
        department="baggage",
        tags=_tags(),
        sla=SLA,
        opened_at=T0,
        first_response_due=T0 + timedelta(seconds=60),
        resolution_due=T0 + timedelta(seconds=600),
        clock=clocks.first_clock(SLA, T0),
    )
    base.update(kw)
    return Case(**base)


def test_transfer_and_claim_carry_the_running_clock():
    case = _case()
    now = T0 + timedelta(seconds=45)
    for action in ("transfer", "claim"):
        clock = clocks.next_clock(case, action, now)
        assert clock.name == "first_response"
        assert clock.due_at == case.clock.due_at


def test_reply_starts_next_update_but_never_past_resolution():
    assert clocks.next_clock(_case(), "reply", T0 + timedelta(seconds=10)).name == "next_update"
    late = clocks.next_clock(_case(), "reply", T0 + timedelta(seconds=590))
    assert late.name == "resolution" and late.seconds == 10


def test_waiting_on_customer_pauses_next_update():
    clock = clocks.next_clock(_case(), "wait_customer", T0 + timedelta(seconds=100))
    assert clock.name == "resolution" and clock.seconds == 500


def test_resolve_stops_the_clock_and_overdue_clocks_fire_at_once():
    assert clocks.next_clock(_case(), "resolve", T0) is None
    overdue = clocks.next_clock(_case(), "claim", T0 + timedelta(seconds=3600))
    assert overdue.seconds == 1


def test_same_words_same_priority_and_sla_whatever_the_follower_count():
    config = load_config(settings_from_env({}).config_path)
    classifier = RuleClassifier(config)
    text = "@SkylarkAir my bag is lost, please help"
    small = classifier.classify(text)
    large = classifier.classify(text)
    assert policy.priority(small) == policy.priority(large)
    assert policy.sla_for(config, "baggage", small) == policy.sla_for(config, "baggage", large)


def test_urgency_tightens_the_sla():
    config = load_config(settings_from_env({}).config_path)
    tags = _tags().model_copy(update={"urgency": Scored(value="safety", confidence=0.9)})
    assert policy.sla_for(config, "baggage", tags).first_response_s < config.sla.first_response_s
    assert policy.priority(tags) == 1


def test_case_ids_are_stable_and_distinct():
    assert case_id_for("x#1") == case_id_for("x#1")
    assert case_id_for("x#1") != case_id_for("x#2")
    assert case_id_for("x#1").startswith("SC-") and len(case_id_for("x#1")) == 11
