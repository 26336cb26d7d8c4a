"""AWS's permission rules hold locally: each function runs with its own role from the template, and a
call the template does not grant fails as AccessDenied (socialcare.local.iam)."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from socialcare.local import iam
from socialcare.local.stack import local_stack
from socialcare.models import case_id_for

from tests.builders import mention
from tests.integration.conftest import FAST_CONFIG, execution, wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
GRANT = """            - Sid: StartCaseWorkflows
              Effect: Allow
              Action: states:StartExecution
"""


def _checkout_without_grant(tmp_path: Path) -> Path:
    """The project with template.yaml minus RouteMention's right to start case workflows."""
    for name in ("functions", "infra", "layers"):
        (tmp_path / name).symlink_to(ROOT / name)
    template = (ROOT / "template.yaml").read_text(encoding="utf-8")
    assert template.count(GRANT) == 1
    (tmp_path / "template.yaml").write_text(
        template.replace(GRANT, GRANT.replace("states:StartExecution", "states:DescribeExecution")), encoding="utf-8"
    )
    return tmp_path


def _route_one(stack, **pump: int) -> tuple[str, object]:
    m = mention("@SkylarkAir my suitcase is lost, the baggage desk is closed. Please help")
    boto3.client("sqs").send_message(QueueUrl=stack.outputs["MentionsQueueUrl"], MessageBody=m.model_dump_json())
    return case_id_for(m.key), stack.pump("RouteMentionFunction", **pump)


def test_granted_calls_pass_and_the_case_workflow_starts():
    with local_stack({"BrandConfigPath": FAST_CONFIG}) as stack:
        case_id, stats = _route_one(stack)
        assert (stats.received, stats.failed) == (1, 0)
        wait_for(lambda: execution(stack, case_id)["status"] == "RUNNING")
        assert iam.current().denied == []


def test_removing_one_grant_from_the_template_denies_the_call(tmp_path, monkeypatch):
    monkeypatch.setenv("SOCIALCARE_ROOT", str(_checkout_without_grant(tmp_path)))
    with local_stack({"BrandConfigPath": FAST_CONFIG}) as stack:
        # every record of the batch failed: the invocation errors and the batch returns to the queue, as in AWS
        _, stats = _route_one(stack, max_batches=1)
        assert (stats.errors, stats.failed, stats.received) == (1, 1, 1)
        denied = iam.current().denied
        assert [(a, r.rsplit(":", 1)[-1]) for _, a, r in denied] == [
            ("states:StartExecution", f"{stack.stack_name}-case-workflow")
        ]


def test_an_ungranted_call_inside_a_function_is_access_denied():
    with local_stack({"BrandConfigPath": FAST_CONFIG}) as stack:
        fn = stack.functions["ReportParityFunction"]
        client = boto3.client("sqs")

        def reads_a_queue_it_was_never_granted(event, context):
            return client.receive_message(QueueUrl=stack.outputs["MentionsQueueUrl"])

        fn._module = type("M", (), {"lambda_handler": staticmethod(reads_a_queue_it_was_never_granted)})
        with pytest.raises(ClientError) as caught:
            fn.invoke({})
        assert caught.value.response["Error"]["Code"] == "AccessDenied"
        assert "sqs:ReceiveMessage" in caught.value.response["Error"]["Message"]
        # outside a function (the operator's own credentials) the same call is not checked
        client.receive_message(QueueUrl=stack.outputs["MentionsQueueUrl"])
