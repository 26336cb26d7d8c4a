"""A managed classifier works only as far as the stack's role lets it: the router calls Comprehend under
the grant template.yaml makes for ManagedClassifier=comprehend, and without it the router stops at start-up
with a message naming the parameter, instead of quietly tagging every mention locally."""

from __future__ import annotations

import logging
from pathlib import Path

import boto3
import pytest
from socialcare.assembly import build_deps
from socialcare.config import load_config
from socialcare.local import iam
from socialcare.local.stack import local_stack

from tests.builders import mention
from tests.integration.conftest import FAST_CONFIG

pytestmark = pytest.mark.integration


def _cascade_config(tmp_path: Path) -> str:
    """The fast test brand with a cascade: Comprehend is asked for the sentiment of English mentions."""
    path = tmp_path / "brand_cascade.yaml"
    path.write_text(
        f"extends: {FAST_CONFIG}\n"
        "classifier: {backend: model, model_path: model/airline.scm, cascade: {languages: [en]}}\n",
        encoding="utf-8",
    )
    return str(path)


def _send(stack) -> str:
    m = mention("@SkylarkAir my suitcase is lost, the baggage desk is closed. Please help")
    boto3.client("sqs").send_message(QueueUrl=stack.outputs["MentionsQueueUrl"], MessageBody=m.model_dump_json())
    return m.key


def test_the_cascade_calls_comprehend_under_the_templates_grant(tmp_path):
    with local_stack({"BrandConfigPath": _cascade_config(tmp_path), "ManagedClassifier": "comprehend"}) as stack:
        key = _send(stack)
        stats = stack.pump("RouteMentionFunction")
        assert (stats.received, stats.failed) == (1, 0)
        store = build_deps().store
        case = store.get_case(store.get_mention(key)["case_id"])
        # the sentiment is Comprehend's (moto answers every call with the same neutral reading)
        assert case.tags.classifier == "model+comprehend"
        assert case.tags.sentiment.value == "neutral"
        assert iam.current().denied == []


def test_without_the_grant_the_router_stops_at_start_up_and_keeps_the_mention(tmp_path, caplog):
    # ManagedClassifier is left at its default, none: the role may not call Comprehend
    with local_stack({"BrandConfigPath": _cascade_config(tmp_path)}) as stack:
        key = _send(stack)
        with caplog.at_level(logging.ERROR):
            stats = stack.pump("RouteMentionFunction", max_batches=1)
        assert (stats.errors, stats.failed, stats.received) == (1, 1, 1)
        assert "deploy with --parameter-overrides ManagedClassifier=comprehend" in caplog.text
        assert iam.current().denied == []  # stopped before any call, not after a denied one
        # (the test's own Deps read the store with the fast brand, which calls no managed classifier)
        assert build_deps(config=load_config(FAST_CONFIG)).store.get_mention(key) is None
        # the mention is still queued: it comes back, then to the dead-letter queue, never lost
        sqs = boto3.client("sqs")
        attrs = sqs.get_queue_attributes(
            QueueUrl=stack.outputs["MentionsQueueUrl"],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        assert int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"]) == 1
