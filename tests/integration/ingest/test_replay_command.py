from __future__ import annotations

import json

import pytest
from socialcare.cli import main
from socialcare.models import case_id_for

from tests.builders import mention

pytestmark = pytest.mark.integration


def test_replay_command_feeds_the_pipeline_and_a_second_replay_opens_nothing(stack, deps, tmp_path, capsys):
    # Given a JSONL export with two complaints
    ms = [mention("@SkylarkAir my suitcase is lost, please help"), mention("@SkylarkAir flight cancelled, rebook me please")]
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(m.model_dump_json() for m in ms) + "\n", encoding="utf-8")
    # When it is replayed into the stack twice and the router runs
    for _ in range(2):
        assert main(["replay", str(path), "--stack", stack.stack_name, "--region", "us-east-1"]) == 0
        assert json.loads(capsys.readouterr().out.splitlines()[-1]) == {"queued": 2, "rejected": 0}
    stack.pump("RouteMentionFunction")
    # Then each mention opened exactly one case
    for m in ms:
        assert [c.id for c in deps.store.customer_cases(m.customer_key)] == [case_id_for(m.key)]
