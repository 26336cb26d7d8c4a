"""AWS requests per mention (by service and operation, counted with botocore event hooks on the
clients the handlers use), state transitions per case, and end-to-end mentions per second through
the local pipeline (real X connector -> mentions queue -> router), at several volumes.

Targets: a non-actionable mention <= 2 DynamoDB writes and <= 1 SQS send; a new case <= 12 state
transitions from opening to resolution on the happy path.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
SENDS = {"SendMessage", "SendMessageBatch"}
VOLUMES = [int(v) for v in os.environ.get("BENCH_VOLUMES", "1000,2000,4000").split(",")]


class RequestCounter:
    def __init__(self) -> None:
        self.calls: Counter = Counter()
        self.items: Counter = Counter()  # items written inside transactions / batches

    def __call__(self, event_name: str, params: dict[str, Any], **kwargs: Any) -> None:
        _, service, operation = event_name.split(".", 2)
        self.calls[(service, operation)] += 1
        if operation == "TransactWriteItems":
            self.items[("dynamodb", "items_in_transactions")] += len(params.get("TransactItems", []))
        if operation == "SendMessageBatch":
            self.items[("sqs", "messages_in_batches")] += len(params.get("Entries", []))

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call.*.*", self._wrap)

    def _wrap(self, params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        service = model.service_model.endpoint_prefix
        self(f"x.{service}.{model.name}", params)


def _posts(n: int, *, actionable: bool, start_id: int, authors: int) -> list[dict[str, Any]]:
    start = datetime.now(UTC) - timedelta(hours=1)
    text = (
        "@SkylarkAir bag still missing after 3 days, claim tag {i}, please help"
        if actionable
        else "@SkylarkAir thank you to the crew on SK{i}, lovely flight!"
    )
    return [
        {
            "id": str(start_id + i),
            "author_id": str(8_000_000 + (i % authors)),
            "username": f"u{i % authors}",
            "followers": 10,
            "text": text.format(i=i),
            "created_at": start + timedelta(milliseconds=i * 10),
            "conversation_id": str(start_id + i),
            "in_reply_to_id": None,
            "lang": "en",
        }
        for i in range(n)
    ]


def _pipeline(stack: Any, server: Any, posts: list[dict[str, Any]], counter: RequestCounter | None) -> float:
    import requests
    from socialcare import aws
    from socialcare.ingest.http import Deadline
    from socialcare.ingest.poller import poll_source
    from socialcare.ingest.sinks import DynamoSeenIndex, SqsDeadLetterSink, SqsMentionSink
    from socialcare.ingest.sources import SourceConfig
    from socialcare.ingest.state import DynamoCursorStore

    out = stack.outputs
    ddb, sqs = aws.client("dynamodb"), aws.client("sqs")
    source = SourceConfig(
        id=f"bench-{posts[0]['id']}",
        platform="x",
        query="@SkylarkAir",
        base_url=server.base_url,
        secret=f"ssm:/{stack.stack_name}/x-bearer",
        backfill_s=7 * 86400,
        page_size=100,
    )
    server.add_posts(posts)
    started = time.perf_counter()
    for _ in range(100):
        r = poll_source(
            source,
            requests.Session(),
            DynamoCursorStore(ddb, out["TableName"]),
            SqsMentionSink(sqs, out["MentionsQueueUrl"]),
            Deadline(60),
            seen=DynamoSeenIndex(ddb, out["TableName"]),
            dead_letters=SqsDeadLetterSink(sqs, out["IngestDeadLetterQueueUrl"]),
        )
        stack.pump("RouteMentionFunction", max_batches=100_000)
        if r.queued == 0:
            break
    return time.perf_counter() - started


def _transitions(stack: Any, deps: Any, send_post: Any) -> int:
    """StateEntered events of one case from opening to resolution, agent acting on time."""
    import boto3
    from socialcare.agents import AgentClient

    case_id = send_post()
    deadline = time.monotonic() + 20
    while not deps.store.get_case(case_id).token_fresh and time.monotonic() < deadline:
        time.sleep(0.05)
    agent = AgentClient(deps, "bench")
    agent.claim(case_id)
    agent.reply(case_id, "On it.")
    agent.resolve(case_id, "done")
    sfn = boto3.client("stepfunctions")
    arn = stack.outputs["StateMachineArn"].replace(":stateMachine:", ":execution:") + ":" + case_id
    while (
        sfn.describe_execution(executionArn=arn)["status"] == "RUNNING" and time.monotonic() < deadline + 20
    ):
        time.sleep(0.1)
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return sum(1 for e in events if e["type"].endswith("StateEntered"))


def measure() -> dict[str, Any]:
    import boto3
    from socialcare import aws
    from socialcare.cases.deps import build_deps, reset_deps
    from socialcare.local.platform_server import PlatformServer
    from socialcare.local.stack import local_stack

    from tests.integration.conftest import FAST_CONFIG

    warnings.filterwarnings("ignore")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    result: dict[str, Any] = {}
    with local_stack({"BrandConfigPath": FAST_CONFIG}) as stack:
        boto3.client("ssm").put_parameter(
            Name=f"/{stack.stack_name}/x-bearer", Value="b", Type="SecureString"
        )
        server = PlatformServer([], token="b").start()  # noqa: S106 - loopback test token
        aws.reset_clients()
        reset_deps()
        counter = RequestCounter()
        for service in ("dynamodb", "sqs", "stepfunctions", "events", "sns", "ssm"):
            counter.attach(aws.client(service))
        # non-actionable: praise, each from its own author
        n = int(os.environ.get("BENCH_QUIET_MENTIONS", "500"))
        _pipeline(
            stack, server, _posts(n, actionable=False, start_id=2_000_000_000_000_000_000, authors=n), counter
        )
        calls = counter.calls
        per = {f"{s}:{o}": round(c / n, 3) for (s, o), c in sorted(calls.items())}
        result["non_actionable_per_mention"] = per
        result["non_actionable_ddb_writes"] = round(
            sum(c for (s, o), c in calls.items() if s == "dynamodb" and o in WRITES) / n, 3
        )
        result["non_actionable_sqs_sends"] = round(
            sum(c for (s, o), c in calls.items() if s == "sqs" and o in SENDS) / n, 3
        )
        result["non_actionable_requests"] = round(sum(calls.values()) / n, 3)
        print(json.dumps({k: v for k, v in result.items()}), flush=True)
        # new cases: actionable, each from its own author
        counter.calls.clear()
        counter.items.clear()
        m = int(os.environ.get("BENCH_CASE_MENTIONS", "50"))
        _pipeline(
            stack, server, _posts(m, actionable=True, start_id=2_100_000_000_000_000_000, authors=m), counter
        )
        result["new_case_per_mention"] = {
            f"{s}:{o}": round(c / m, 3) for (s, o), c in sorted(counter.calls.items())
        }
        result["new_case_ddb_items_in_transactions"] = round(
            counter.items[("dynamodb", "items_in_transactions")] / m, 2
        )
        deps = build_deps()
        counter_ids = iter(range(10**6))

        def one_case() -> str:
            from socialcare.models import case_id_for

            i = next(counter_ids)
            post = _posts(1, actionable=True, start_id=2_200_000_000_000_000_000 + i, authors=1)[0]
            post["author_id"] = str(9_000_000 + i)
            _pipeline(stack, server, [post], None)
            return case_id_for(f"x#{post['id']}")

        result["happy_path_state_transitions"] = _transitions(stack, deps, one_case)
        print(json.dumps({k: result[k] for k in ("new_case_per_mention", "happy_path_state_transitions")}), flush=True)
        # throughput: non-actionable mentions end to end at growing volumes
        throughput = {}
        start_id = 2_300_000_000_000_000_000
        for volume in VOLUMES:
            seconds = _pipeline(
                stack, server, _posts(volume, actionable=False, start_id=start_id, authors=volume), None
            )
            throughput[volume] = round(volume / seconds, 1)
            print(f"throughput {volume}: {throughput[volume]} mentions/s", flush=True)
            start_id += volume + 1
        result["mentions_per_second"] = throughput
        server.stop()
    return result


def run() -> None:
    res = measure()
    print(json.dumps(res, indent=2))
    ok_writes = res["non_actionable_ddb_writes"] <= 2
    ok_sends = res["non_actionable_sqs_sends"] <= 1
    ok_tx = res["happy_path_state_transitions"] <= 12
    print(
        f"non-actionable mention: {res['non_actionable_ddb_writes']} DynamoDB writes (<= 2: {ok_writes}), "
        f"{res['non_actionable_sqs_sends']} SQS sends (<= 1: {ok_sends})"
    )
    print(f"new case, happy path: {res['happy_path_state_transitions']} state transitions (<= 12: {ok_tx})")
    print(
        "end-to-end mentions/s (poll + queue + route, local moto): "
        + ", ".join(f"{k}: {v}" for k, v in res["mentions_per_second"].items())
    )
