"""`socialcare local up` in one process, `socialcare agent ...` from another, `local down` to stop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from socialcare.models import case_id_for

from tests.builders import mention
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
# The commands run through their own modules' register(), as `socialcare` does.
RUNNER = """
import argparse, sys
from socialcare.agents import commands as agent
from socialcare.local import commands as local
parser = argparse.ArgumentParser(prog="socialcare")
sub = parser.add_subparsers(dest="command", required=True)
local.register_local(sub)
agent.register(sub)
args = parser.parse_args(sys.argv[1:])
sys.exit(args.func(args))
"""


def run(env: dict, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", RUNNER, *argv],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_local_up_serves_agents_in_another_process_until_down(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(SOCIALCARE_LOCAL_STATE=str(tmp_path / "state.json"), POWERTOOLS_LOG_LEVEL="WARNING")
    up = subprocess.Popen(
        [sys.executable, "-c", RUNNER, "local", "up", "--no-samples", "--sla-scale", "20"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # Given a local stack that came up on loopback and wrote its state file
        state = wait_for(
            lambda: (tmp_path / "state.json").exists() and json.loads((tmp_path / "state.json").read_text()),
            timeout=60,
        )
        assert state["endpoint_url"].startswith("http://127.0.0.1:") and state["stack_name"] == "socialcare"
        # When a mention reaches its mentions queue, the scheduler routes it into a case
        sqs = boto3.client(
            "sqs",
            endpoint_url=state["endpoint_url"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        m = mention("@SkylarkAir my suitcase is lost and the baggage desk is closed, please help")
        sqs.send_message(QueueUrl=state["outputs"]["MentionsQueueUrl"], MessageBody=m.model_dump_json())
        case_id = case_id_for(m.key)

        def queued() -> bool:
            out = run(env, "agent", "queue", "baggage", "--json")
            return out.returncode == 0 and case_id in out.stdout

        wait_for(queued, timeout=30, interval=0.5)
        # Then `socialcare agent` in another process finds the stack from the state file and acts on it
        time.sleep(0.5)
        claim = run(env, "agent", "claim", case_id, "--as", "maria")
        assert claim.returncode == 0, claim.stderr
        reply = run(env, "agent", "reply", case_id, "On it", "--as", "maria")
        assert reply.returncode == 0 and "DRAFT" in reply.stdout, reply.stderr
        shown = json.loads(run(env, "agent", "show", case_id, "--json").stdout)
        assert shown["owner"] == "maria" and shown["conversation"][-1]["delivery"] == "draft"
    finally:
        down = run(env, "local", "down")
        up.wait(timeout=30)
    assert "stopped the local stack socialcare" in down.stdout
    assert not (tmp_path / "state.json").exists()
