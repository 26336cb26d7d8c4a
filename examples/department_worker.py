"""A department's own worker: pull new work items off the department's queue and push each case into
the department's tool (a ticketing system, a CRM, a chat channel).

Two ways to run it:

1. As a Lambda with the department's queue as its event source (Powertools reports partial batch
   failures, so one bad item is retried without redoing the others). Add to your own stack:

       Events:
         WorkItems:
           Type: SQS
           Properties:
             Queue: arn:aws:sqs:<region>:<account>:socialcare-dept-baggage
             FunctionResponseTypes: [ReportBatchItemFailures]

2. As a long-running process anywhere with AWS credentials (or next to `socialcare local up`):

       python examples/department_worker.py baggage --tool-url https://tickets.example.com/hooks/socialcare

It reads the stack's resource names from its CloudFormation outputs (like `socialcare agent`),
sends each case with its conversation, clocks and suggested replies, and deletes only the items the
tool accepted. The tool receives an Idempotency-Key header (case id + reason + clock), so a retried
item never opens a second ticket.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import requests
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from socialcare.agents import AgentClient
from socialcare.agents.views import CaseView
from socialcare.assembly import connect_agent
from socialcare.aws import settle_batch

Push = Callable[[CaseView, dict[str, Any]], None]


class ToolRejectedError(Exception):
    """The department's tool did not accept the item; it stays on the queue and comes back."""


def webhook(url: str, *, timeout_s: float = 10.0) -> Push:
    """Pushes to an HTTP endpoint of the department's tool."""
    session = requests.Session()

    def push(case: CaseView, item: dict[str, Any]) -> None:
        clock = item.get("clock") or {}
        key = f"{case.case_id}:{item.get('reason')}:{clock.get('name')}:{clock.get('seconds')}"
        response = session.post(
            url,
            json={"work_item": item, "case": case.model_dump(mode="json")},
            headers={"Idempotency-Key": key},
            timeout=timeout_s,
        )
        if response.status_code >= 300:
            raise ToolRejectedError(f"tool answered HTTP {response.status_code} for {case.case_id}")

    return push


class Worker:
    """One batch at a time: every record is handled on its own; failures are reported, never swallowed."""

    def __init__(self, client: AgentClient, push: Push) -> None:
        self.client = client
        self.push = push
        self.processor = BatchProcessor(event_type=EventType.SQS)

    def record_handler(self, record: SQSRecord) -> str:
        item = json.loads(record.body)
        if item.get("kind") != "work_item":
            return "skipped"
        self.push(self.client.show(item["case_id"]), item)
        return item["case_id"]

    def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """The Lambda entry point's body: {"batchItemFailures": [...]} for the records to retry."""
        return process_partial_response(
            event=event, record_handler=self.record_handler, processor=self.processor, context=context
        )

    def poll_once(self, department: str, *, wait_s: int = 10, retry_after_s: int = 30) -> tuple[int, int]:
        """Long-running mode: receive a batch, handle it like Lambda would, delete what succeeded and
        make the failures visible again after retry_after_s. Returns (handled, failed)."""
        sqs = self.client.deps.sqs
        url = self.client.deps.settings.department_queue_url(department)
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_s, AttributeNames=["All"]
        ).get("Messages", [])
        if not got:
            return 0, 0
        event = {"Records": [_record(m) for m in got]}
        result = self.handle(event)
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        done = settle_batch(sqs, url, got, failed, retry_after_s)
        return len(done), len(failed)


def _record(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "",
        "awsRegion": "",
    }


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda mode. Configure with DEPARTMENT_TOOL_URL; the function's environment names the stack
    (the socialcare layer's settings, e.g. STACK_NAME, TABLE_NAME, MENTIONS_QUEUE_URL)."""
    import os

    worker = Worker(connect_agent("department-worker"), webhook(os.environ["DEPARTMENT_TOOL_URL"]))
    return worker.handle(event, context)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("department")
    parser.add_argument("--tool-url", required=True, help="the department tool's webhook")
    parser.add_argument(
        "--stack", default=None, help="CloudFormation stack (default socialcare or the local one)"
    )
    parser.add_argument("--once", action="store_true", help="one batch, then exit")
    args = parser.parse_args(argv)
    client = connect_agent(f"{args.department}-worker", department=args.department, stack=args.stack)
    worker = Worker(client, webhook(args.tool_url))
    while True:
        handled, failed = worker.poll_once(args.department)
        if handled or failed:
            print(f"{args.department}: pushed {handled}, will retry {failed}", flush=True)
        if args.once:
            return 1 if failed else 0
        if not handled and not failed:
            time.sleep(1)


if __name__ == "__main__":
    raise SystemExit(main())
