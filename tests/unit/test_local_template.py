from __future__ import annotations

from pathlib import Path

from socialcare.config import load_config
from socialcare.local.template import prepare
from socialcare.settings import settings_from_env
from socialcare.template_sync import render, synced

ROOT = Path(__file__).resolve().parents[2]


def test_template_deploys_one_queue_per_department(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    tpl = prepare(ROOT, {}, "bucket")
    queues = {k for k, r in tpl.cfn["Resources"].items() if r["Type"] == "AWS::SQS::Queue"}
    assert {"DeptBaggageQueue", "DeptCustomerCareQueue"} <= queues
    assert set(tpl.functions) >= {"RouteMentionFunction", "AwaitActionFunction", "PollMentionsFunction"}
    assert tpl.functions["RouteMentionFunction"].sqs_sources == ["MentionsQueue"]
    assert "CaseWorkflow" in tpl.state_machines


def test_template_is_in_step_with_the_brand_configuration():
    # Given the packaged brand configuration, when the department section is regenerated,
    # then template.yaml is unchanged (run `socialcare template sync` after adding a department)
    departments = load_config(settings_from_env({}).config_path).department_names
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    assert synced(text, departments) == text


def test_adding_a_department_adds_its_queue_and_alarm():
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    new = synced(text, ["billing", "tech_support"])
    assert "DeptTechSupportQueue:" in new and "DeptTechSupportOldestItemAlarm:" in new
    assert "DeptBaggageQueue:" not in new
    assert '"billing,tech_support"  # departments: generated' in new
    assert render(["a"]).count("Type: AWS::SQS::Queue") == 1


def test_the_local_stack_keeps_the_console_api_and_leaves_its_aws_edge_to_local_up(monkeypatch):
    # Given the template with the web console's Cognito pool, CloudFront and JWT-authorised API
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    tpl = prepare(ROOT, {}, "bucket")
    # Then the local stack has the console's API function (local up calls it) and none of the edge
    types = {r["Type"] for r in tpl.cfn["Resources"].values()}
    assert "ConsoleApiFunction" in tpl.functions
    assert not {t for t in types if t.startswith(("AWS::Cognito::", "AWS::CloudFront::"))}
    assert not [
        k for k in tpl.cfn.get("Outputs", {}) if k.startswith(("ConsoleUrl", "ConsoleUserPool", "ConsoleSignIn"))
    ]
    # While the deployable template keeps a Cognito group per department plus ops
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    for dept in load_config(settings_from_env({}).config_path).department_names:
        assert f"      GroupName: {dept}\n" in text
    assert "      GroupName: ops\n" in text


def test_the_inbox_index_projects_exactly_what_an_inbox_row_reads():
    from socialcare.agents.sdk import INBOX_ROW
    from socialcare.local.template import load_sam

    table = load_sam(ROOT / "template.yaml")["Resources"]["Table"]["Properties"]
    indexes = {i["IndexName"]: i for i in table["GlobalSecondaryIndexes"]}
    inbox, open_cases = indexes["InboxByDepartment"], indexes["OpenByDepartment"]
    # The same sparse keys as the open-case index (a resolved case leaves both), fewer attributes
    assert inbox["KeySchema"] == open_cases["KeySchema"]
    assert inbox["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(INBOX_ROW)}
