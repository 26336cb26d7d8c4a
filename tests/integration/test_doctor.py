"""`socialcare doctor` against the local stack: one line per check, each verdict earned."""

from __future__ import annotations

import json

import boto3
import pytest
from socialcare.config import load_config
from socialcare.doctor.checks import FAIL, OK, WARN, run
from socialcare.ingest.state import DynamoCursorStore

pytestmark = pytest.mark.integration


def _doctor(stack):
    config = load_config(stack.environment().get("BRAND_CONFIG_PATH") or None)
    cursor = DynamoCursorStore(boto3.client("dynamodb"), stack.outputs["TableName"]).load
    return {c.name: c for c in run(stack.stack_name, boto3.client, list(config.sources), cursor)}


def test_a_fresh_stack_is_healthy_except_what_an_operator_must_still_do(stack):
    checks = _doctor(stack)
    assert checks["stack"].verdict == OK
    functions = [c for n, c in checks.items() if n.startswith("function ")]
    assert len(functions) == len(stack.functions) and all(c.verdict == OK for c in functions)
    assert checks["alarms wired"].verdict == OK and "every one notifies a topic" in checks["alarms wired"].detail
    assert checks["topic alarms"].verdict == WARN  # nobody subscribed yet (AlarmEmail)
    assert all(c.verdict == OK for n, c in checks.items() if n.startswith("queue "))
    assert checks["workflow case-workflow"].verdict == OK
    # the sample sources' secrets were never created: each says which secret is missing
    sources = [c for n, c in checks.items() if n.startswith("source ")]
    with_secret = [c for c in sources if c.detail != "public feed, no secret"]
    assert with_secret and all(c.verdict == FAIL and f"{stack.stack_name}/" in c.detail for c in with_secret)


def test_problems_show_up_with_their_verdict(stack):
    sqs, sm, cw = boto3.client("sqs"), boto3.client("secretsmanager"), boto3.client("cloudwatch")
    sqs.send_message(QueueUrl=stack.outputs["MentionsDeadLetterQueueUrl"], MessageBody=json.dumps({"x": 1}))
    sm.create_secret(Name=f"{stack.stack_name}/x-bearer", SecretString="t")
    route = stack.functions["RouteMentionFunction"].name
    cw.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[{"MetricName": "Errors", "Dimensions": [{"Name": "FunctionName", "Value": route}], "Value": 2}],
    )
    checks = _doctor(stack)
    assert checks["queue mentions-dlq"].verdict == WARN and "1 dead letters" in checks["queue mentions-dlq"].detail
    assert checks["function " + route.removeprefix(stack.stack_name + "-")].verdict == FAIL
    x_sources = [c for n, c in checks.items() if n.startswith("source x-")]
    assert x_sources and all(c.verdict == OK for c in x_sources)
