"""AWS requests per mention (by service and operation, counted with botocore event hooks on the
clients the handlers use), state transitions per case, and end-to-end mentions per second through
the local pipeline (real X connector -> mentions queue -> router), at several volumes.

Targets: a non-actionable mention <= 2 DynamoDB writes and <= 1 SQS send; a new case <= 12 state
transitions from opening to resolution on the happy path.
"""

from __future__ import annotations

import json
import os
import threading
import time
import warnings
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
SENDS = {"SendMessage", "SendMessageBatch"}
SAMPLE_BRAND = Path(__file__).resolve().parents[1] / "layers/socialcare/socialcare/data/brand.yaml"
VOLUMES = [int(v) for v in os.environ.get("BENCH_VOLUMES", "1000,2000,4000").split(",")]


class RequestCounter:
    """Requests by (service, operation), and DynamoDB request units as on-demand bills them.

    Units are computed from the items themselves: a write costs ceil(max(size before, size after) /
    1 KB) units (twice that inside a transaction), a read ceil(size / 4 KB), halved when eventually
    consistent, a Query ceil(sum of item sizes / 4 KB). Sizes before and after a write are read from
    moto's backend directly, so measuring adds no request."""

    def __init__(self) -> None:
        self.calls: Counter = Counter()
        self.items: Counter = Counter()  # items written inside transactions / batches
        self.units: Counter = Counter()  # ("dynamodb", "wru"|"rru")
        self._pending = threading.local()

    def clear(self) -> None:
        self.calls.clear()
        self.items.clear()
        self.units.clear()

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.*.*", self._before)
        client.meta.events.register("after-call.*.*", self._after)

    # -- hooks
    def _before(self, params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        service = model.service_model.endpoint_prefix
        operation = model.name
        self.calls[(service, operation)] += 1
        if operation == "TransactWriteItems":
            self.items[("dynamodb", "items_in_transactions")] += len(params.get("TransactItems", []))
        if operation == "SendMessageBatch":
            self.items[("sqs", "messages_in_batches")] += len(params.get("Entries", []))
        if service == "dynamodb":
            self._pending.writes = self._planned_writes(operation, params)
            self._pending.consistent = bool(params.get("ConsistentRead"))

    def _after(self, parsed: dict[str, Any], model: Any, **kwargs: Any) -> None:
        if model.service_model.endpoint_prefix != "dynamodb":
            return
        operation = model.name
        factor = 1.0 if getattr(self._pending, "consistent", False) else 0.5
        if operation == "GetItem" and parsed.get("Item"):
            self.units[("dynamodb", "rru")] += factor * _ceil(_size(parsed["Item"]), 4096)
        elif operation == "BatchGetItem":
            for items in parsed.get("Responses", {}).values():
                self.units[("dynamodb", "rru")] += sum(factor * _ceil(_size(i), 4096) for i in items)
        elif operation in {"Query", "Scan"}:
            total = sum(_size(i) for i in parsed.get("Items", []))
            self.units[("dynamodb", "rru")] += factor * max(1, _ceil(total, 4096))
        for table, key, before, new_size, weight in getattr(self._pending, "writes", []):
            after = _stored_size(table, key) if new_size is None else new_size
            self.units[("dynamodb", "wru")] += weight * max(1, _ceil(max(before, after), 1024))
        self._pending.writes = []

    def _planned_writes(self, operation: str, params: dict[str, Any]) -> list[tuple[str, dict, int, int | None, int]]:
        plans: list[tuple[str, dict, int, int | None, int]] = []

        def plan(table: str, kind: str, body: dict[str, Any], weight: int) -> None:
            if kind == "Put":
                key = _key_of(table, body["Item"])
                plans.append((table, key, _stored_size(table, key), _size(body["Item"]), weight))
            elif kind in {"Update", "Delete", "ConditionCheck"}:
                plans.append((table, body["Key"], _stored_size(table, body["Key"]), None, weight))

        if operation == "PutItem":
            plan(params["TableName"], "Put", params, 1)
        elif operation == "UpdateItem":
            plan(params["TableName"], "Update", params, 1)
        elif operation == "DeleteItem":
            plan(params["TableName"], "Delete", params, 1)
        elif operation == "BatchWriteItem":
            for table, requests in params.get("RequestItems", {}).items():
                for r in requests:
                    if "PutRequest" in r:
                        plan(table, "Put", r["PutRequest"], 1)
                    else:
                        plan(table, "Delete", r["DeleteRequest"], 1)
        elif operation == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                kind, body = next(iter(entry.items()))
                plan(body["TableName"], kind, body, 2)
        return plans


def _ceil(size: int, unit: int) -> int:
    return -(-size // unit)


def _size(item: dict[str, Any]) -> int:
    from moto.dynamodb.models.dynamo_type import DynamoType

    return sum(len(k.encode()) + DynamoType(v).size() for k, v in item.items())


def _table(name: str) -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    return dynamodb_backends[DEFAULT_ACCOUNT_ID][region].get_table(name)


def _key_of(table: str, item: dict[str, Any]) -> dict[str, Any]:
    t = _table(table)
    key = {t.hash_key_attr: item[t.hash_key_attr]}
    if t.range_key_attr:
        key[t.range_key_attr] = item[t.range_key_attr]
    return key


def _stored_size(table: str, key: dict[str, Any]) -> int:
    from moto.dynamodb.models.dynamo_type import DynamoType

    t = _table(table)
    try:
        item = t.get_item(
            DynamoType(key[t.hash_key_attr]), DynamoType(key[t.range_key_attr]) if t.range_key_attr else None
        )
    except Exception:  # noqa: BLE001 - a key moto cannot look up costs what an empty item costs
        return 0
    return item.size() if item else 0


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
    from socialcare.ingest.state import DynamoCursorStore
    from socialcare.sources import SourceConfig

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


class _ForcedVenting:
    """The router's classifier with its intent overridden to venting: measures the storage path of a
    non-actionable complaint (stored and indexed for incidents) whatever the model says of the text."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def classify(self, text: str, **kwargs: Any) -> Any:
        from socialcare.models import Scored

        tags = self.inner.classify(text, **kwargs)
        return tags.model_copy(
            update={"intent": Scored(value="venting", confidence=0.9), "actionable": Scored(value="no", confidence=0.9)}
        )


VENTING = "@SkylarkAir delayed again on SK{i}, two hours at the gate, of course. why do I even bother"
FOLLOW_UP = "@SkylarkAir any news on the bag from SK{i}? still nothing here"


def _summary(counter: RequestCounter, n: int) -> dict[str, Any]:
    calls = counter.calls
    return {
        "requests": {f"{s}:{o}": round(c / n, 3) for (s, o), c in sorted(calls.items())},
        "ddb_writes": round(sum(c for (s, o), c in calls.items() if s == "dynamodb" and o in WRITES) / n, 3),
        "sqs_sends": round(sum(c for (s, o), c in calls.items() if s == "sqs" and o in SENDS) / n, 3),
        "wru": round(counter.units[("dynamodb", "wru")] / n, 2),
        "rru": round(counter.units[("dynamodb", "rru")] / n, 2),
        "events": round(sum(c for (s, o), c in calls.items() if o == "PutEvents") / n, 3),
    }


def _lifecycle(stack: Any, server: Any, counter: RequestCounter, m: int) -> dict[str, Any]:
    """m new cases, each from its own author: opened by the pipeline, a follow-up mention attached,
    then claimed, answered and resolved by an agent on time. Everything each step asks of AWS."""
    import boto3
    from socialcare.agents import AgentClient
    from socialcare.assembly import build_deps
    from socialcare.models import case_id_for

    deps = build_deps()
    start = 2_100_000_000_000_000_000
    posts = _posts(m, actionable=True, start_id=start, authors=m)
    counter.clear()
    _pipeline(stack, server, posts, counter)
    opened = _summary(counter, m)
    case_ids = [case_id_for(f"x#{p['id']}") for p in posts]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not all(deps.store.get_case(c).token_fresh for c in case_ids):
        time.sleep(0.1)
    waits = _summary(counter, m)  # opening plus the workflow storing its first task token
    counter.clear()
    follow = _posts(m, actionable=True, start_id=start + 10_000, authors=m)
    for i, post in enumerate(follow):
        post["text"] = FOLLOW_UP.format(i=i)
    _pipeline(stack, server, follow, counter)
    attached = _summary(counter, m)
    counter.clear()
    agent = AgentClient(deps, "bench")
    for case_id in case_ids:
        agent.claim(case_id)
        agent.reply(case_id, "Found it: your bag is on the next flight and will be delivered tonight.")
        agent.resolve(case_id, "bag delivered")
    sfn = boto3.client("stepfunctions")
    prefix = stack.outputs["StateMachineArn"].replace(":stateMachine:", ":execution:") + ":"
    transitions = awaits = 0
    for case_id in case_ids:
        while sfn.describe_execution(executionArn=prefix + case_id)["status"] == "RUNNING" and (
            time.monotonic() < deadline + 120
        ):
            time.sleep(0.1)
        events = sfn.get_execution_history(executionArn=prefix + case_id, maxResults=1000)["events"]
        entered = [e for e in events if e["type"].endswith("StateEntered")]
        transitions += len(entered)
        awaits += sum(1 for e in entered if e["stateEnteredEventDetails"]["name"] == "AwaitAgent")
    acted = _summary(counter, m)
    return {
        "opened": waits,
        "opened_router_only": opened,
        "attached_follow_up": attached,
        "agent_actions": acted,
        "state_transitions": round(transitions / m, 2),
        "await_invocations": round(awaits / m, 2),
    }


def measure() -> dict[str, Any]:
    import boto3
    from socialcare import assembly, aws
    from socialcare.assembly import reset_deps
    from socialcare.local.platform_server import PlatformServer
    from socialcare.local.stack import local_stack

    warnings.filterwarnings("ignore")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    result: dict[str, Any] = {}
    # The sample brand as shipped (SLAs in hours): every case is answered on time, as on the happy path.
    with local_stack({"BrandConfigPath": str(SAMPLE_BRAND)}) as stack:
        boto3.client("ssm").put_parameter(Name=f"/{stack.stack_name}/x-bearer", Value="b", Type="SecureString")
        server = PlatformServer([], token="b").start()  # noqa: S106 - loopback test token
        aws.reset_clients()
        reset_deps()
        counter = RequestCounter()
        for service in ("dynamodb", "sqs", "stepfunctions", "events", "sns", "ssm"):
            counter.attach(aws.client(service))
        n = int(os.environ.get("BENCH_QUIET_MENTIONS", "300"))
        # praise, each from its own author: stored, never indexed
        _pipeline(stack, server, _posts(n, actionable=False, start_id=2_000_000_000_000_000_000, authors=n), counter)
        result["praise"] = _summary(counter, n)
        # venting (the model's intent overridden): stored and indexed for incidents
        counter.clear()
        for d in assembly._CACHE.values():  # the router's warm dependencies, built by the run above
            d.classifier = _ForcedVenting(d.classifier)
        posts = _posts(n, actionable=False, start_id=2_050_000_000_000_000_000, authors=n)
        for i, post in enumerate(posts):
            post["text"] = VENTING.format(i=i % 40)
        _pipeline(stack, server, posts, counter)
        for d in assembly._CACHE.values():
            d.classifier = d.classifier.inner
        result["venting"] = _summary(counter, n)
        print(json.dumps({k: result[k] for k in ("praise", "venting")}), flush=True)
        result["case"] = _lifecycle(stack, server, counter, int(os.environ.get("BENCH_CASE_MENTIONS", "40")))
        result["happy_path_state_transitions"] = result["case"]["state_transitions"]
        print(json.dumps(result["case"]), flush=True)
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
    out = Path(os.environ.get("BENCH_OUT", ".bench"))
    out.mkdir(exist_ok=True)
    (out / "pipeline.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def run() -> None:
    res = measure()
    print(json.dumps(res, indent=2))
    for kind in ("praise", "venting"):
        r = res[kind]
        print(
            f"non-actionable mention ({kind}): {r['ddb_writes']} DynamoDB writes (<= 2: {r['ddb_writes'] <= 2}), "
            f"{r['sqs_sends']} SQS sends (<= 1: {r['sqs_sends'] <= 1}); {r['wru']} write units, {r['rru']} read units"
        )
    case = res["case"]
    print(
        f"new case, happy path: {case['state_transitions']} state transitions "
        f"(<= 12: {case['state_transitions'] <= 12}); write units: opening {case['opened']['wru']}, "
        f"agent actions {case['agent_actions']['wru']}, follow-up mention {case['attached_follow_up']['wru']}"
    )
    print(
        "end-to-end mentions/s (poll + queue + route, local moto): "
        + ", ".join(f"{k}: {v}" for k, v in res["mentions_per_second"].items())
    )
