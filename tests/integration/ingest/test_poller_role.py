"""The scheduled poller's connector threads act with the poller's role, as every thread of a Lambda
function does: a call its role does not grant is denied on a worker thread as on the handler's own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
import yaml
from socialcare.local import iam
from socialcare.local.platform_server import PlatformServer, sample_posts
from socialcare.local.stack import LocalStack, local_stack

pytestmark = pytest.mark.integration
PACKAGED_BRAND = Path(__file__).resolve().parents[3] / "layers" / "socialcare" / "socialcare" / "data" / "brand.yaml"


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[tuple[LocalStack, PlatformServer]]:
    brand = yaml.safe_load(PACKAGED_BRAND.read_text())
    with PlatformServer(sample_posts(5, start=datetime.now(UTC) - timedelta(hours=1))) as platform:
        brand["sources"] = [{"id": "feed", "platform": "rss", "feed_url": f"{platform.base_url}/feed.xml"}]
        path = tmp_path / "brand.yaml"
        path.write_text(yaml.safe_dump(brand))
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        with local_stack({"BrandConfigPath": str(path)}) as stack:
            yield stack, platform


def test_a_call_outside_the_pollers_role_is_denied_on_its_connector_thread(deployed) -> None:
    stack, _ = deployed
    poller = stack.functions["PollMentionsFunction"].name
    sqs = boto3.client("sqs")
    queue = stack.outputs["MentionsQueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # Given a poller whose role may not send to the mentions queue (an explicit Deny, as IAM evaluates it)
    policies = iam.current()
    assert policies is not None
    policies.by_function[poller] = [
        {"Effect": "Deny", "Action": "sqs:SendMessage", "Resource": queue_arn},
        *policies.by_function[poller],
    ]
    # When its schedule polls every source (each on a thread of the poller's pool)
    result = stack.invoke("PollMentionsFunction", stack.scheduled_event("PollMentionsFunction"))
    # Then the connector thread's send was denied as the poller's: the source reports the error, and
    # nothing reached the queue
    assert (poller, "sqs:SendMessage", queue_arn) in policies.denied
    assert [(s["source_id"], s["queued"], s["errors"] > 0) for s in result["sources"]] == [("feed", 0, True)]
    assert (
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        == "0"
    )
