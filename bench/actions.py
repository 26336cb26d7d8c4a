"""DynamoDB reads per agent action (claim, reply, resolve) on the local stack.

Counted with a botocore event hook on the shared DynamoDB client: reads made on the agent's thread
(the API Lambda's share) apart from reads made on the workflow's threads (the AwaitAction Lambda
storing or picking up the next wait). Two situations:

- waiting: each action is taken once the case's workflow waits for it (a fresh task token);
- back-to-back: claim, reply and resolve are sent one after another as soon as the case opens,
  before its workflow first waits, so the workflow is not waiting for most of them.

Reads are GetItem, BatchGetItem, Query, Scan and TransactGetItems requests. The sample brand's
SLAs (hours) keep escalations out of the way.

    .venv/bin/python -m bench.actions [--cases 20]
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import warnings
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
ACTIONS = ("claim", "reply", "resolve")
SAMPLE_BRAND = Path(__file__).resolve().parents[1] / "layers/socialcare/socialcare/data/brand.yaml"


class ReadCounter:
    """DynamoDB read requests: those of the agent's thread, and those made while the workflow stores
    or picks up a wait (inside actions.store_wait, on the AwaitAction Lambda's threads)."""

    def __init__(self, agent_thread: threading.Thread) -> None:
        self.agent_thread = agent_thread
        self.counts: Counter = Counter()
        self._lock = threading.Lock()
        self._in_wait = threading.local()

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call.dynamodb.*", self._count)

    def wrap_store_wait(self, late_s: float) -> None:
        """Counts the workflow's reads; with late_s > 0 each wait starts that much later (as after an
        AwaitAction cold start), so actions sent meanwhile find the workflow not waiting."""
        from socialcare.cases import actions

        original = actions.store_wait

        def store_wait(*args: Any, **kwargs: Any) -> Any:
            time.sleep(late_s)
            self._in_wait.on = True
            try:
                return original(*args, **kwargs)
            finally:
                self._in_wait.on = False

        actions.store_wait = store_wait  # type: ignore[assignment]

    def _count(self, model: Any, **_: Any) -> None:
        if model.name not in READS:
            return
        if threading.current_thread() is self.agent_thread:
            side = "agent"
        elif getattr(self._in_wait, "on", False):
            side = "workflow"
        else:
            return
        with self._lock:
            self.counts[side] += 1

    def take(self) -> Counter:
        with self._lock:
            taken, self.counts = self.counts, Counter()
        return taken


def _open_cases(stack: Any, n: int, start: int) -> list[str]:
    import boto3
    from socialcare.models import Author, Mention, case_id_for

    sqs = boto3.client("sqs")
    ids = []
    for i in range(n):
        m = Mention(
            platform="x",
            id=str(start + i),
            author=Author(id=f"a{start + i}", handle=f"flyer{start + i}"),
            text="@SkylarkAir my suitcase never arrived at the carousel, please help me find it",
            created_at=datetime.now(UTC),
            lang="en",
        )
        sqs.send_message(QueueUrl=stack.outputs["MentionsQueueUrl"], MessageBody=m.model_dump_json())
        ids.append(case_id_for(m.key))
    stack.pump("RouteMentionFunction")
    return ids


def _until(predicate: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("the local workflow did not get there in time")
        time.sleep(0.02)


def _act(agent: Any, action: str, case_id: str) -> None:
    if action == "claim":
        agent.claim(case_id)
    elif action == "reply":
        agent.reply(case_id, "Found it: your bag is on the next flight and reaches you tonight.")
    else:
        agent.resolve(case_id, "bag delivered")


def _settled(stack: Any, case_ids: list[str]) -> None:
    """Every execution has ended, and ended closed (so the workflow's reads are all counted, and no
    action was lost on the way)."""
    import boto3

    sfn = boto3.client("stepfunctions")
    prefix = stack.outputs["StateMachineArn"].replace(":stateMachine:", ":execution:") + ":"
    for case_id in case_ids:
        _until(lambda c=case_id: sfn.describe_execution(executionArn=prefix + c)["status"] != "RUNNING")
        status = sfn.describe_execution(executionArn=prefix + case_id)["status"]
        if status != "SUCCEEDED":
            raise RuntimeError(f"case {case_id}: its workflow ended {status}, not closed")


def measure(cases: int = 20, late_s: float = 0.5) -> dict[str, Any]:
    from socialcare import aws
    from socialcare.agents import AgentClient
    from socialcare.assembly import build_deps, reset_deps
    from socialcare.cases import actions
    from socialcare.local.stack import local_stack

    warnings.filterwarnings("ignore")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    result: dict[str, Any] = {"cases": cases}
    with local_stack({"BrandConfigPath": str(SAMPLE_BRAND)}) as stack:
        aws.reset_clients()
        reset_deps()
        deps = build_deps()
        counter = ReadCounter(threading.current_thread())
        counter.attach(aws.client("dynamodb"))
        if deps.store.ddb is not aws.client("dynamodb"):
            counter.attach(deps.store.ddb)
        agent = AgentClient(deps, "bench")
        original_store_wait = actions.store_wait
        counter.wrap_store_wait(0.0)

        # waiting: each action finds the workflow waiting
        ids = _open_cases(stack, cases, 3_100_000_000_000_000_000)
        waiting: dict[str, Counter] = {a: Counter() for a in ACTIONS}
        waiting_workflow = 0
        for case_id in ids:
            for action in ACTIONS:
                _until(lambda c=case_id: deps.store.get_case(c).token_fresh)
                waiting_workflow += counter.take()["workflow"]  # the agent side's were the bench's own polls
                _act(agent, action, case_id)
                waiting[action] += counter.take()
        _settled(stack, ids)
        waiting_workflow += counter.take()["workflow"] + sum(c["workflow"] for c in waiting.values())

        # back-to-back: the three actions as soon as the case exists, each wait of the workflow late_s late
        actions.store_wait = original_store_wait
        counter.wrap_store_wait(late_s)
        back: dict[str, Counter] = {a: Counter() for a in ACTIONS}
        ids = []
        for i in range(cases):
            [case_id] = _open_cases(stack, 1, 3_200_000_000_000_000_000 + i)
            ids.append(case_id)
            for action in ACTIONS:
                _act(agent, action, case_id)
                back[action] += counter.take()
        _settled(stack, ids)
        # the workflow's reads for the whole life of these cases, their first wait included
        workflow_reads = counter.take()["workflow"] + sum(c["workflow"] for c in back.values())
        actions.store_wait = original_store_wait

    def per(counts: dict[str, Counter], side: str) -> dict[str, float]:
        return {a: round(counts[a][side] / cases, 2) for a in ACTIONS}

    result["waiting_agent_reads"] = per(waiting, "agent")
    result["back_to_back_agent_reads"] = per(back, "agent")
    result["back_to_back_workflow_reads_per_case"] = round(workflow_reads / cases, 2)
    result["waiting_workflow_reads_per_case"] = round(waiting_workflow / cases, 2)
    result["late_s"] = late_s
    return result


def run(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.actions", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=int(os.environ.get("BENCH_ACTION_CASES", "20")))
    parser.add_argument("--late", type=float, default=0.5, help="seconds each wait starts late, back-to-back")
    args = parser.parse_args(argv or [])
    result = measure(args.cases, args.late)
    print(f"DynamoDB reads per agent action, {result['cases']} cases (agent side: the API Lambda's requests);")
    print(f"back-to-back: the workflow reaches each wait {result['late_s']} s late")
    print(f"{'action':<10}{'waiting':>10}{'back-to-back':>15}")
    for action in ACTIONS:
        print(
            f"{action:<10}{result['waiting_agent_reads'][action]:>10}{result['back_to_back_agent_reads'][action]:>15}"
        )
    print(
        f"workflow side (storing or picking up its waits), per case: waiting "
        f"{result['waiting_workflow_reads_per_case']}, back-to-back {result['back_to_back_workflow_reads_per_case']}"
    )
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    import sys

    run(sys.argv[1:])
