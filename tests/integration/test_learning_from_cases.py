"""Routing learns from agents: a bank's cases worked on the local stack, `train --from-cases`, promotion.

Harbor Bank (examples/brands/harbor_bank.yaml) is deployed with its own departments. Its agents work
500 hand-written cases through the SDK (transfer where the routing was wrong, label what is not
actionable, resolve). Routing accuracy is measured on the 101 Harbor Bank mentions of the labelled
routing set, which no case is made from, before and after the retrain, through the stack itself
(mentions sent to the queue, the case's department read back after a cold start).
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from socialcare import cli as socialcare_cli
from socialcare.local.stack import LocalStack, local_stack, project_root
from socialcare.models import case_id_for

from tests.builders import mention
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[1] / "data"
BRAND = project_root() / "examples" / "brands" / "harbor_bank.yaml"


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
def bank_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    """The stack as `socialcare template sync` makes it for the bank: a checkout whose template.yaml
    has the bank's department queues, everything else the repository's own."""
    from socialcare.config import load_config
    from socialcare.template_sync import sync

    root = project_root()
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for entry in root.iterdir():
        if entry.name not in {"template.yaml", ".git", ".venv", ".local-stack"}:
            (checkout / entry.name).symlink_to(entry)
    shutil.copy(root / "template.yaml", checkout / "template.yaml")
    sync(checkout / "template.yaml", load_config(str(BRAND)).department_names)
    monkeypatch.setenv("SOCIALCARE_ROOT", str(checkout))
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    warnings.filterwarnings("ignore", category=UserWarning)
    with local_stack({"BrandConfigPath": str(BRAND)}) as deployed:
        yield deployed


def _depth(sqs, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def _open_cases(stack: LocalStack, rows: list[dict], tag: str) -> dict[str, dict]:
    """Sends one mention per row (each from its own customer) and returns case id -> row for those
    that opened a case, once every case's workflow waits for an agent."""
    from socialcare.assembly import build_deps

    sqs = boto3.client("sqs")
    sent = {}
    for row in rows:
        m = mention(row["text"], handle=f"{tag}{row['id'].replace('-', '')}", id=f"{tag}-{row['id']}")
        sqs.send_message(QueueUrl=stack.outputs["MentionsQueueUrl"], MessageBody=m.model_dump_json())
        sent[case_id_for(m.key)] = (m.key, row)
    stats = stack.pump("RouteMentionFunction")
    # On a loaded machine an invocation can pass its 60 s Timeout locally: the functions share one
    # interpreter and moto's one DynamoDB lock, so a batch's wall time is mostly waiting (its CPU is
    # ~0.3 s). The pump then returns the batch to the queue, as Lambda's SQS event source does, and it
    # is routed again. Any other failed invocation, a mention left unrouted or dead-lettered, fails.
    assert stats.errors == stats.timeouts, stats
    store = build_deps().store
    assert [key for key, _ in sent.values() if store.get_mention(key) is None] == [], stats
    for queue in ("MentionsQueueUrl", "MentionsDeadLetterQueueUrl"):
        assert _depth(sqs, stack.outputs[queue]) == 0, (queue, stats)
    opened = {}
    for case_id, (key, row) in sent.items():
        if (store.get_mention(key) or {}).get("case_id") == case_id:
            opened[case_id] = row
    # Every workflow runs on the local stack's threads: on a loaded machine hundreds of them reach their
    # first wait minutes after the pump returns, so the bound is generous (wait_for stretches it again)
    for case_id in opened:
        wait_for(lambda case_id=case_id: store.get_case(case_id).token_fresh, timeout=80)
    return opened


def _accuracy(stack: LocalStack, rows: list[dict], tag: str) -> tuple[float, int]:
    """Routing accuracy of the stack on these mentions (over the ones that opened a case)."""
    from socialcare.assembly import build_deps

    opened = _open_cases(stack, rows, tag)
    store = build_deps().store
    right = sum(store.get_case(cid).department == row["department"] for cid, row in opened.items())
    return right / len(opened), len(opened)


def test_agents_corrections_teach_routing_and_only_a_better_model_is_promoted(bank_stack, capsys):
    from socialcare import assembly
    from socialcare.agents.sdk import AgentClient
    from socialcare.cases.learning import CURRENT_SK, MODEL_PK, retrain, retrain_runs, training_set

    held_out = [r for r in _jsonl(DATA / "routing" / "mentions.jsonl") if r["brand"] == "Harbor Bank"]
    cases = _jsonl(DATA / "learning" / "harbor_bank_cases.jsonl")

    # Given the bank's routing from its configuration alone, measured on mentions never used as cases
    before, n_before = _accuracy(bank_stack, held_out, "before")
    assert n_before >= 90

    # And its agents working 500 cases: a transfer where routing was wrong, a label where the
    # actionable tag was, then resolve
    opened = _open_cases(bank_stack, cases, "work")
    deps = assembly.build_deps()
    agent = AgentClient(deps, "maria")
    corrections = {"transfer": 0, "label": 0, "resolve": 0}
    for case_id, row in opened.items():
        case = agent.case(case_id)
        truly_actionable = row["actionable"]
        if (case.tags.actionable.value == "yes") != truly_actionable:
            agent.label(case_id, truly_actionable)
            corrections["label"] += 1
        elif corrections["resolve"] % 50 == 0:  # a few confirmations, from the terminal
            flag = "--actionable" if truly_actionable else "--not-actionable"
            argv = ["agent", "label", case_id, flag, "--as", "li", "--stack", bank_stack.stack_name]
            assert socialcare_cli.main(argv) == 0
            corrections["label"] += 1
        if row["department"] and case.department != row["department"]:
            agent.transfer(case_id, row["department"], "belongs there")
            corrections["transfer"] += 1
        agent.resolve(case_id, "done")
        corrections["resolve"] += 1
    assert sum(corrections.values()) >= 250 and corrections["transfer"] >= 20, corrections

    # When the brand retrains from its cases
    capsys.readouterr()  # the functions' logs so far
    code = socialcare_cli.main(["train", "--from-cases", "--stack", bank_stack.stack_name, "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    result = json.loads(out)

    # Then the candidate beat the routing in use on the held-out cases, and was promoted
    assert result["promoted"] is True, result
    assert result["candidate"]["accuracy"] > result["current"]["accuracy"]
    assert result["counts"]["from_transfers"] == corrections["transfer"]
    assert result["counts"]["actionable_labels"] == corrections["label"] >= 1
    current = deps.store.get({"PK": {"S": MODEL_PK}, "SK": {"S": CURRENT_SK}})
    assert current["version"] == result["version"]
    assert current["current"] == result["current"] and current["candidate"] == result["candidate"]

    # And after a cold start the stack routes the untouched mentions better
    assembly.reset_deps()  # the functions' next invocation is a cold start
    after, n_after = _accuracy(bank_stack, held_out, "after")
    print(
        f"\nrouting accuracy on {n_before} held-out mentions: before {before:.3f}, after {after:.3f}; "
        f"corrections {corrections}; retrain {result['current']} -> {result['candidate']}"
    )
    assert after >= before + 0.04, (before, after)

    # And a retrain from worse labels (agents who sent every case one department over) is refused,
    # the model in use stays, and both figures are kept on the retrain record
    ts = training_set(deps.store, deps.config)
    names = deps.config.department_names
    for r in ts.rows:
        if r.department and not r.held_out:
            r.department = names[(names.index(r.department) + 1) % len(names)]
    worse = retrain(deps.store, deps.config, actor="test", training=ts)
    print(f"worse labels: {worse.current} -> {worse.candidate}, promoted {worse.promoted}")
    assert worse.promoted is False and worse.candidate.accuracy < worse.current.accuracy
    assert worse.current_version == result["version"]
    assert deps.store.get({"PK": {"S": MODEL_PK}, "SK": {"S": CURRENT_SK}})["version"] == result["version"]
    runs = {r["version"]: r for r in retrain_runs(deps.store)}
    assert runs[worse.version]["promoted"] is False
    assert runs[worse.version]["candidate"]["accuracy"] == worse.candidate.accuracy
    assert runs[worse.version]["current"]["accuracy"] == worse.current.accuracy
