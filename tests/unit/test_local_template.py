from __future__ import annotations

from pathlib import Path

from socialcare.local.template import prepare

ROOT = Path(__file__).resolve().parents[2]


def test_departments_parameter_expands_to_one_queue_each(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    tpl = prepare(ROOT, {"Departments": "billing,tech_support"}, "bucket")
    queues = {k for k, r in tpl.cfn["Resources"].items() if r["Type"] == "AWS::SQS::Queue"}
    assert {"DeptbillingQueue", "DepttechsupportQueue"} <= queues
    assert "DeptbaggageQueue" not in queues
    assert set(tpl.functions) >= {"RouteMentionFunction", "AwaitActionFunction", "PollMentionsFunction"}
    assert tpl.functions["RouteMentionFunction"].sqs_sources == ["MentionsQueue"]
    assert "CaseWorkflow" in tpl.state_machines
