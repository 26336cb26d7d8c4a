from __future__ import annotations

import json

import pytest
from socialcare.cli import main
from socialcare.models import case_id_for

from tests.builders import mention

pytestmark = pytest.mark.integration


def _command_output(capsys: pytest.CaptureFixture[str]) -> dict:
    """The command's one summary line. The stack's functions run on threads of this process, so a
    metric one of them prints (an SLA timer firing) can land in the same captured stdout."""
    lines = [line for line in capsys.readouterr().out.splitlines() if not line.startswith('{"_aws"')]
    assert len(lines) == 1, lines
    return json.loads(lines[0])


def test_replay_command_feeds_the_pipeline_and_a_second_replay_opens_nothing(stack, deps, tmp_path, capsys):
    # Given a JSONL export with two complaints
    ms = [
        mention("@SkylarkAir my suitcase is lost, please help"),
        mention("@SkylarkAir flight cancelled, rebook me please"),
    ]
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(m.model_dump_json() for m in ms) + "\n", encoding="utf-8")
    # When it is replayed into the stack, the router runs, and it is replayed again
    command = ["replay", str(path), "--stack", stack.stack_name, "--region", "us-east-1"]
    assert main(command) == 0
    assert _command_output(capsys) == {"queued": 2, "duplicates": 0, "rejected": 0}
    stack.pump("RouteMentionFunction")
    capsys.readouterr()  # what the in-process router printed (its logs and metrics), not the command's
    assert main(command) == 0
    # Then the second replay reports both as duplicates and queues nothing
    assert _command_output(capsys) == {"queued": 0, "duplicates": 2, "rejected": 0}
    stack.pump("RouteMentionFunction")
    # And each mention opened exactly one case
    for m in ms:
        assert [c.id for c in deps.store.customer_cases(m.customer_key)] == [case_id_for(m.key)]
