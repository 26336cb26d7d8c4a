"""The deployed shape is safe by construction: checked on template.yaml as SAM expands it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from socialcare.local.template import prepare

ROOT = Path(__file__).resolve().parents[3]
# APIs with no resource-level permissions (log delivery, PutMetricData, X-Ray): the only "*" resources allowed.
RESOURCE_STAR_OK = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
    "cloudwatch:PutMetricData",
    "states:SendTaskSuccess",  # a task token names no resource (IAM has no resource type for it)
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    # Comprehend's detect APIs (granted only with ManagedClassifier=comprehend) name no resource.
    "comprehend:DetectSentiment",
    "comprehend:DetectDominantLanguage",
}


# Each managed classifier adds a grant under a condition: the posture holds with each of them.
@pytest.fixture(scope="module", params=["none", "comprehend", "bedrock"])
def resources(request: pytest.FixtureRequest) -> dict[str, Any]:
    import os

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return prepare(ROOT, {"ManagedClassifier": request.param}, "bucket").cfn["Resources"]


def _statements(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for logical_id, res in resources.items():
        if res["Type"] != "AWS::IAM::Role":
            continue
        for policy in res["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                out.append((logical_id, statement))
    return out


def test_no_wildcard_actions(resources: dict[str, Any]) -> None:
    statements = _statements(resources)
    assert statements
    for role, st in statements:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        assert all("*" not in a for a in actions), (role, actions)


def test_resources_are_named_except_where_aws_has_no_resource_level_permissions(
    resources: dict[str, Any],
) -> None:
    for role, st in _statements(resources):
        targets = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        if "*" in targets:
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            assert set(actions) <= RESOURCE_STAR_OK, (role, actions)


def test_encryption_at_rest_and_recovery(resources: dict[str, Any]) -> None:
    table = resources["Table"]["Properties"]
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["SSESpecification"]["SSEType"] == "KMS"
    assert table["SSESpecification"]["KMSMasterKeyId"]["Fn::If"][0] == "HasKmsKey"  # customer-managed key option
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    queues = {k: r["Properties"] for k, r in resources.items() if r["Type"] == "AWS::SQS::Queue"}
    topics = {k: r["Properties"] for k, r in resources.items() if r["Type"] == "AWS::SNS::Topic"}
    assert len(queues) >= 6 and topics
    for name, props in queues.items():
        assert "SqsManagedSseEnabled" in props and "KmsMasterKeyId" in props, name
    for name, props in topics.items():
        assert props.get("KmsMasterKeyId"), name


def test_no_secret_in_function_environment(resources: dict[str, Any]) -> None:
    for name, res in resources.items():
        if res["Type"] != "AWS::Lambda::Function":
            continue
        env = res["Properties"].get("Environment", {}).get("Variables", {})
        for var in env:
            assert not any(word in var.upper() for word in ("TOKEN", "SECRET", "PASSWORD", "KEY")), (
                name,
                var,
            )


def test_every_checkov_skip_is_justified() -> None:
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "template.yaml").read_text(encoding="utf-8"), Loader=Loader)  # noqa: S506
    skips = [
        (name, skip)
        for name, res in template["Resources"].items()
        if isinstance(res, dict)
        for skip in (res.get("Metadata", {}) or {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    for name, skip in skips:
        assert skip["id"].startswith("CKV_") and len(skip.get("comment", "")) > 40, (name, skip)


@pytest.mark.parametrize(
    ("managed", "granted"),
    [
        ("none", set()),
        ("comprehend", {"comprehend:DetectSentiment", "comprehend:DetectDominantLanguage"}),
        ("bedrock", {"bedrock:InvokeModel"}),
    ],
)
def test_only_the_router_may_call_a_managed_classifier_and_only_the_one_deployed_for(
    managed: str, granted: set[str]
) -> None:
    resources = prepare(ROOT, {"ManagedClassifier": managed}, "bucket").cfn["Resources"]
    found = {
        (role, action)
        for role, st in _statements(resources)
        for action in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])
        if action.split(":")[0] in {"comprehend", "bedrock"}
    }
    assert found == {("RouteMentionFunctionRole", action) for action in granted}
    env = resources["RouteMentionFunction"]["Properties"]["Environment"]["Variables"]
    assert env["MANAGED_CLASSIFIER"] == {"Ref": "ManagedClassifier"}  # what the router checks at start-up
