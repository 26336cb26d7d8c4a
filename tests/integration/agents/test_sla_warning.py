"""case.sla_warning: at a configured fraction of the running clock, only while the wait is unanswered."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import boto3
import pytest
from socialcare.agents import AgentClient
from socialcare.assembly import build_deps
from socialcare.local.stack import local_stack
from socialcare.models import case_id_for

from tests.builders import mention
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

WARN_CONFIG = str(Path(__file__).resolve().parent / "brand_warn.yaml")


def test_warning_fires_once_for_an_unanswered_clock_and_not_for_an_answered_one():
    with local_stack({"BrandConfigPath": WARN_CONFIG}) as stack:
        deps = build_deps()
        sqs = boto3.client("sqs")
        # Given two baggage cases on a 30 s first-response clock, warned at 10 % (3 s)
        quiet, answered = (
            mention("@SkylarkAir my suitcase is lost and the baggage desk is closed, please help") for _ in range(2)
        )
        for m in (quiet, answered):
            sqs.send_message(QueueUrl=stack.outputs["MentionsQueueUrl"], MessageBody=m.model_dump_json())
        stack.pump("RouteMentionFunction")
        ids = [case_id_for(m.key) for m in (quiet, answered)]
        for case_id in ids:
            wait_for(lambda c=case_id: deps.store.get_case(c).token_fresh)
        # When one is answered before the warning is due and the other is left alone
        AgentClient(deps, "maria").reply(ids[1], "Looking into it now")

        def warned() -> list:
            stack.pump("WarnSlaFunction")
            return [e for e in deps.store.events(ids[0]) if e["type"] == "case.sla_warning"]

        events = wait_for(warned, timeout=25, interval=0.3)
        # Then only the unanswered case is warned, about its first-response clock, before the breach
        assert events[0]["detail"]["clock"] == "first_response" and events[0]["detail"]["seconds_left"] > 0
        opened = deps.store.get_case(ids[0]).opened_at
        assert 2.5 <= (datetime.fromisoformat(events[0]["at"]) - opened).total_seconds() < 30
        time.sleep(0.5)
        stack.pump("WarnSlaFunction")
        assert len(warned()) == 1
        assert not [e for e in deps.store.events(ids[1]) if e["type"] == "case.sla_warning"]
