"""template.yaml as SAM translates it, read against AWS's documented behaviour: encryption that still
works, names that let two stacks share an account, alarms and dashboards that see the real resources."""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _functions() -> list[str]:
    from socialcare.local.template import load_sam

    return [
        k.removesuffix("Function")
        for k, r in load_sam(ROOT / "template.yaml")["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
    ]


FUNCTIONS = _functions()  # every function of the template: a new one is held to the same rules
KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"


def translate(params: dict[str, str]) -> dict[str, Any]:
    """The CloudFormation template `sam deploy` would submit (local paths stand in as S3 URIs)."""
    from samtranslator.translator.transform import transform
    from socialcare.local.template import load_sam, parameter_values

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    sam = copy.deepcopy(load_sam(ROOT / "template.yaml"))
    for res in sam["Resources"].values():
        props = res.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://bucket/{props[key]}"

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    return transform(sam, parameter_values(sam, params), _NoManagedPolicies())


def resolve(node: Any, conditions: dict[str, bool], stack: str = "sc-prod") -> Any:
    """Fn::If and the stack-name pseudo parameter resolved; other intrinsics kept as they are."""
    if isinstance(node, dict):
        if "Fn::If" in node:
            name, yes, no = node["Fn::If"]
            return resolve(yes if conditions[name] else no, conditions, stack)
        if set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
            return node["Fn::Sub"].replace("${AWS::StackName}", stack)
        return {k: resolve(v, conditions, stack) for k, v in node.items()}
    if isinstance(node, list):
        return [x for x in (resolve(x, conditions, stack) for x in node) if x != {"Ref": "AWS::NoValue"}]
    return node


# The default deployment: the router calls no managed classifier (test_template_posture covers the others).
NO_MANAGED_CLASSIFIER = {"CallsComprehend": False, "CallsBedrock": False}


@pytest.fixture(scope="module")
def with_key() -> dict[str, Any]:
    cfn = translate({"KmsKeyArn": KEY})
    conditions = {"HasKmsKey": True, "HasAlarmEmail": False, "CreateStackKey": False, **NO_MANAGED_CLASSIFIER}
    return {
        k: r for k, r in resolve(cfn["Resources"], conditions).items() if conditions.get(r.get("Condition", ""), True)
    }


@pytest.fixture(scope="module")
def without_key() -> dict[str, Any]:
    cfn = translate({})
    conditions = {"HasKmsKey": False, "HasAlarmEmail": False, "CreateStackKey": True, **NO_MANAGED_CLASSIFIER}
    return {
        k: r for k, r in resolve(cfn["Resources"], conditions).items() if conditions.get(r.get("Condition", ""), True)
    }


def _as_list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else [x]


def role_statements(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    out = []
    for policy in resources[role]["Properties"].get("Policies", []):
        out += policy["PolicyDocument"]["Statement"]
    for res in resources.values():
        if res["Type"] == "AWS::IAM::Policy" and {"Ref": role} in res["Properties"]["Roles"]:
            out += res["Properties"]["PolicyDocument"]["Statement"]
    return out


def allows(statements: list[dict[str, Any]], action: str, resource: Any) -> bool:
    return any(
        st["Effect"] == "Allow" and action in _as_list(st["Action"]) and resource in _as_list(st["Resource"])
        for st in statements
    )


# Every action on an encrypted queue, topic, table or secret needs the key: producers GenerateDataKey
# and Decrypt, consumers Decrypt (AWS documents both for SQS/SNS SSE-KMS and for a DynamoDB customer key).
USES_ENCRYPTED = re.compile(
    r"^(sqs:(SendMessage|ReceiveMessage|DeleteMessage)|sns:Publish|dynamodb:\w+|"
    r"secretsmanager:GetSecretValue)$"
)


def test_with_a_customer_key_every_role_holds_the_grants_its_encrypted_resources_need(with_key):
    roles = [f"{f}FunctionRole" for f in FUNCTIONS] + ["CaseWorkflowRole"]
    for role in roles:
        statements = role_statements(with_key, role)
        uses = sorted({a for st in statements for a in _as_list(st["Action"]) if USES_ENCRYPTED.match(a)})
        # SQS-triggered functions consume through the event source mapping (their role receives)
        assert uses, role
        for needed in ("kms:Decrypt", "kms:GenerateDataKey"):
            assert allows(statements, needed, {"Ref": "KmsKeyArn"}), f"{role} uses {uses} without {needed}"


def test_removing_the_key_grant_is_caught(with_key):
    broken = copy.deepcopy(with_key)
    del broken["CustomerKeyUsePolicy"]
    with pytest.raises(AssertionError):
        test_with_a_customer_key_every_role_holds_the_grants_its_encrypted_resources_need(broken)


def test_without_a_customer_key_alarms_and_escalations_can_publish(without_key):
    key = without_key["StackKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    services = {
        s
        for st in key["KeyPolicy"]["Statement"]
        for s in _as_list(st.get("Principal", {}).get("Service", []))
        if {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(_as_list(st["Action"]))
    }
    assert {"cloudwatch.amazonaws.com", "events.amazonaws.com"} <= services
    for topic in ("AlarmTopic", "EscalationTopic"):
        assert without_key[topic]["Properties"]["KmsMasterKeyId"] == {"Ref": "StackKey"}, topic
    workflow = role_statements(without_key, "CaseWorkflowRole")
    assert allows(workflow, "kms:GenerateDataKey", {"Fn::GetAtt": ["StackKey", "Arn"]})


def test_two_stacks_in_one_account_and_region_name_their_schedules_apart(without_key):
    names = {}
    for stack in ("sc-prod", "sc-staging"):
        resources = resolve(
            translate({})["Resources"],
            {"HasKmsKey": False, "HasAlarmEmail": False, "CreateStackKey": True, **NO_MANAGED_CLASSIFIER},
            stack,
        )
        schedules = [r["Properties"]["Name"] for r in resources.values() if r["Type"] == "AWS::Scheduler::Schedule"]
        assert len(schedules) == 3 and all(isinstance(n, str) and n.startswith(stack) for n in schedules)
        assert len(set(schedules)) == len(schedules)
        names[stack] = set(schedules)
    assert not names["sc-prod"] & names["sc-staging"]


def test_lambda_consumers_get_at_least_five_receives(without_key):
    for logical_id, res in without_key.items():
        if res["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in res["Properties"]:
            assert res["Properties"]["RedrivePolicy"]["maxReceiveCount"] >= 5, logical_id


def test_every_function_has_a_retained_log_group_and_is_watched(without_key):
    for f in FUNCTIONS:
        logs = without_key[f"{f}FunctionLogs"]["Properties"]
        assert logs["LogGroupName"] == f"/aws/lambda/${{{f}Function}}" or f"{f}Function" in json.dumps(logs)
        assert logs["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    for metric in ("Errors", "Throttles"):
        watched = set()
        for res in without_key.values():
            metrics = res["Properties"].get("Metrics", []) if res["Type"] == "AWS::CloudWatch::Alarm" else []
            stats = [m["MetricStat"]["Metric"] for m in metrics if "MetricStat" in m]
            assert len(metrics) <= 10  # CloudWatch's limit per alarm
            watched |= {
                m["Dimensions"][0]["Value"]["Ref"]
                for m in stats
                if m["Namespace"] == "AWS/Lambda" and m["MetricName"] == metric
            }
        assert watched == {f"{f}Function" for f in FUNCTIONS}, metric
    failed = json.dumps(without_key["WorkflowFailedAlarm"]["Properties"])
    assert "ExecutionsFailed" in failed and "CaseWorkflow" in failed


# ---------------------------------------------------------------- dashboard searches
def _tokens(value: str) -> list[str]:
    return [t for t in re.split(r"[^A-Za-z0-9]+", value) if t]


def search_matches(expression: str, value: str) -> bool:
    """CloudWatch SEARCH over one QueueName, as AWS documents it: Name="x" matches the whole value exactly,
    an unquoted Name=x matches when each token of x is a token of the value; NOT negates the next term."""
    terms = re.findall(r'(NOT\s+)?QueueName=("[^"]*"|\S+)', expression)
    for negated, term in terms:
        exact = term.startswith('"')
        hit = term.strip('"') == value if exact else all(t in _tokens(value) for t in _tokens(term))
        if hit == bool(negated):
            return False
    return True


def test_dashboard_searches_match_the_queues_the_template_names(without_key):
    stack = "sc-prod"
    queues = {k: r["Properties"]["QueueName"] for k, r in without_key.items() if r["Type"] == "AWS::SQS::Queue"}
    body = without_key["Dashboard"]["Properties"]["DashboardBody"]
    body = body.replace("${AWS::Region}", "us-east-1") if isinstance(body, str) else body
    searches = re.findall(r"SEARCH\('([^']*)'", body.replace('\\"', '"'))
    assert len(searches) == 2
    age, dlq = searches
    dept_queues = {n for k, n in queues.items() if k.startswith("Dept") and k.endswith("Queue")}
    dead_letters = {n for n in queues.values() if n.endswith("-dlq")}
    assert dept_queues and dead_letters
    assert {n for n in queues.values() if search_matches(age, n)} == dept_queues
    assert {n for n in queues.values() if search_matches(dlq, n)} == dead_letters
    assert all(n.startswith(stack) for n in queues.values())


# The state machine's role is not checked by the local stack (moto makes its calls): read the grants here.
_TASK_ACTION = re.compile(r"^arn:aws:states:::(?:aws-sdk:)?(dynamodb|sqs|sns|events|cloudwatch):(\w)(\w+?)(?:\.\w+)?$")


def test_the_case_workflow_role_grants_every_service_call_its_states_make(without_key):
    asl = json.loads((ROOT / "infra" / "case_workflow.asl.json").read_text(encoding="utf-8"))
    needed = set()
    for state in asl["States"].values():
        if m := _TASK_ACTION.match(state.get("Resource", "")):
            needed.add(f"{m[1]}:{m[2].upper()}{m[3]}")
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "sqs:SendMessage"} <= needed
    granted = {
        a
        for st in role_statements(without_key, "CaseWorkflowRole")
        if st["Effect"] == "Allow"
        for a in _as_list(st["Action"])
    }
    assert needed <= granted, f"not granted to CaseWorkflowRole: {sorted(needed - granted)}"
