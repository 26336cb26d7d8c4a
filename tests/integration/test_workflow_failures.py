"""The case workflow never dies silently: a task failing in a way nothing expected flags the case,
records an event, puts it on the escalation queue, counts it for the alarm; a restart redrives it."""

from __future__ import annotations

import json

import boto3
import pytest
from socialcare.agents import AgentClient
from socialcare.cases import actions
from socialcare.models import case_id_for

from tests.builders import mention
from tests.integration.conftest import PATIENT_CONFIG, execution, history, wait_for

pytestmark = pytest.mark.integration


# Clocks of minutes: the restarted execution must not breach and go stale while the test still works the case.
@pytest.mark.parametrize("stack", [PATIENT_CONFIG], indirect=True)
def test_an_unexpected_task_error_flags_the_case_and_a_restart_redrives_it(stack, deps, send, monkeypatch):
    # Given the task that stores the workflow's wait dying with an error no Catch names
    real_store_wait = actions.store_wait

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(actions, "store_wait", broken)
    m = mention("@SkylarkAir my suitcase is lost, the baggage desk is closed. Please help")
    # When the case opens and its workflow reaches the wait
    send(m)
    case_id = case_id_for(m.key)
    wait_for(lambda: execution(stack, case_id)["status"] != "RUNNING", timeout=60)
    # Then the execution ended through the failure path, not silently
    run = execution(stack, case_id)
    assert run["status"] == "FAILED"
    sfn = boto3.client("stepfunctions")
    failed = [
        e
        for e in sfn.get_execution_history(executionArn=run["executionArn"])["events"]
        if e["type"] == "ExecutionFailed"
    ]
    assert failed[0]["executionFailedEventDetails"]["error"] == "CaseWorkflowFailed"
    case = deps.store.get_case(case_id)
    assert case.workflow_failed and case.workflow_error == "RuntimeError"
    assert "case.workflow_failed" in [e["type"] for e in deps.store.events(case_id)]
    sqs = boto3.client("sqs")
    flagged = [
        json.loads(x["Body"])
        for x in sqs.receive_message(QueueUrl=stack.outputs["EscalationQueueUrl"], MaxNumberOfMessages=10).get(
            "Messages", []
        )
    ]
    assert {"kind": "workflow_failed", "case_id": case_id}.items() <= flagged[0].items()
    metrics = boto3.client("cloudwatch").list_metrics(Namespace="SocialCare", MetricName="WorkflowFailures")
    counted = [
        (e["type"], e.get("taskFailedEventDetails", {}).get("error"))
        for e in history(stack, case_id)
        if e["type"].startswith("Task") and "cloudwatch" in json.dumps(e, default=str)
    ]
    assert metrics["Metrics"], f"the WorkflowFailed alarm's metric was not raised: {counted}"
    # When the fault is fixed and an agent restarts the case's workflow
    monkeypatch.setattr(actions, "store_wait", real_store_wait)
    AgentClient(deps, "ops").restart(case_id)
    # Then a fresh execution waits on the case again and the flag is cleared
    restarted = wait_for(lambda: (c := deps.store.get_case(case_id)).token_fresh and c)
    assert not restarted.workflow_failed and restarted.execution_name == f"{case_id}-w1"
    assert execution(stack, f"{case_id}-w1")["status"] == "RUNNING"
    AgentClient(deps, "ops").resolve(case_id, "found the bag")
    wait_for(lambda: execution(stack, f"{case_id}-w1")["status"] == "SUCCEEDED")
