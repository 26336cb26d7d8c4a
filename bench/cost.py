"""Cost per million mentions from AWS public on-demand prices (us-east-1, arm64), at a stated mix.

The per-mention and per-case figures are the ones bench/pipeline.py measures on the local stack in the
same `make bench` run (.bench/pipeline.json): requests by service, DynamoDB request units computed from
item sizes, state transitions from the execution history. Without that file the figures committed below
(the last measured run, docs/cost.md) are used. Lambda durations are estimates for a 512 MB arm64
function; moto cannot measure them. Platform API fees are excluded.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# USD, us-east-1, public on-demand price pages (checked 2026): Lambda, Step Functions, DynamoDB,
# SQS, EventBridge, CloudWatch.
PRICE = {
    "lambda_gb_s_arm": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    "sfn_transition": 0.025 / 1e3,
    "ddb_wru": 0.625 / 1e6,  # on-demand write request unit (1 KB)
    "ddb_rru": 0.125 / 1e6,  # on-demand read request unit (4 KB strongly consistent, 8 KB eventually)
    "sqs_request": 0.40 / 1e6,  # per 64 KB chunk
    "eventbridge_event": 1.00 / 1e6,
    "cw_metric_month": 0.30,  # per custom metric (EMF), first 10,000, billed only in hours it is sent
    "cw_logs_gb": 0.50,  # ingestion
}

# Metrics published every hour of a normal month (custom metrics are billed per hour they are sent, so
# rare-event metrics such as WebhookSignatureRejected cost almost nothing): the router's five outcomes,
# MentionsIngested, SlaBreaches, SlaWarnings, IncidentMatches; plus the daily parity report's 18
# metrics, sent in one hour of each 24.
STEADY_METRICS = 9 + 18 / 24
# The daily parity report scans the table (eventually consistent, 0.5 unit per 4 KB): 30 scans a month
# of a table of about 1 KB per mention kept (raw text expires after the brand's retention).
PARITY_SCANS_PER_MONTH = 30


@dataclass
class Mix:
    actionable: float = 0.20  # share of mentions that ask for something
    new_case_share: float = 0.25  # of actionable mentions, the share that opens a case (rest attach to one)
    venting_share: float = 0.30  # of the rest, complaints that ask nothing (indexed for incidents)
    mentions_per_month: float = 1e6


@dataclass
class Measured:
    """Units one mention or one case costs, by kind (bench/pipeline.py)."""

    praise: dict[str, float] = field(default_factory=lambda: {"wru": 1.01, "rru": 0.5, "sqs_sends": 0.1})
    venting: dict[str, float] = field(default_factory=lambda: {"wru": 1.02, "rru": 1.0, "sqs_sends": 0.1})
    attached: dict[str, float] = field(default_factory=lambda: {"wru": 6.17, "rru": 8.53, "sqs_sends": 0.1})
    # a case from opening to resolution: the router, the workflow's waits, claim + reply + resolve
    case_wru: float = 76.25
    case_rru: float = 30.68
    case_sqs_sends: float = 2.1
    case_events: float = 5.05
    transitions: float = 6.0
    await_invocations: float = 2.0
    # estimates (not measurable on moto)
    router_ms: float = 40.0
    poller_ms: float = 3.0
    batch: int = 10
    agent_calls: float = 3.0  # claim, reply, resolve through the HTTP API
    case_lambda_ms: float = 150.0
    log_bytes: float = 300.0

    @classmethod
    def load(cls, path: Path) -> Measured:
        if not path.is_file():
            return cls()
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        case = data["case"]
        keys = ("wru", "rru", "sqs_sends")
        return cls(
            praise={k: data["praise"][k] for k in keys},
            venting={k: data["venting"][k] for k in keys},
            attached={k: case["attached_follow_up"][k] for k in keys},
            case_wru=case["opened"]["wru"] + case["agent_actions"]["wru"],
            case_rru=case["opened"]["rru"] + case["agent_actions"]["rru"],
            case_sqs_sends=case["opened"]["sqs_sends"] + case["agent_actions"]["sqs_sends"],
            case_events=case["opened"]["events"] + case["agent_actions"]["events"],
            transitions=case["state_transitions"],
            await_invocations=case["await_invocations"],
        )


def cost_per_million(mix: Mix | None = None, m: Measured | None = None) -> dict[str, float]:
    mix, m = mix or Mix(), m or Measured()
    n = 1e6
    cases = n * mix.actionable * mix.new_case_share
    attached = n * mix.actionable - cases
    quiet = n - cases - attached
    venting, praise = quiet * mix.venting_share, quiet * (1 - mix.venting_share)
    gb = 0.5
    case_invocations = m.await_invocations + m.agent_calls
    lam = (n * (m.router_ms + m.poller_ms) / 1000 + cases * case_invocations * m.case_lambda_ms / 1000) * gb * PRICE[
        "lambda_gb_s_arm"
    ] + (n / m.batch + cases * case_invocations) * PRICE["lambda_request"]
    wru = praise * m.praise["wru"] + venting * m.venting["wru"] + attached * m.attached["wru"] + cases * m.case_wru
    rru = praise * m.praise["rru"] + venting * m.venting["rru"] + attached * m.attached["rru"] + cases * m.case_rru
    table_bytes = mix.mentions_per_month * 1024  # about a month of mentions kept, ~1 KB each
    scan_rru = PARITY_SCANS_PER_MONTH * table_bytes / 4096 * 0.5 * (n / mix.mentions_per_month)
    ddb = wru * PRICE["ddb_wru"] + (rru + scan_rru) * PRICE["ddb_rru"]
    # every message sent is also received and deleted once (batches of 10 on the mentions queue)
    sends = sum(k * v["sqs_sends"] for k, v in ((praise, m.praise), (venting, m.venting), (attached, m.attached)))
    sqs = (3 * sends + cases * 3 * m.case_sqs_sends) * PRICE["sqs_request"]
    sfn = cases * m.transitions * PRICE["sfn_transition"]
    events = cases * m.case_events * PRICE["eventbridge_event"]
    metrics = STEADY_METRICS * PRICE["cw_metric_month"] * (n / mix.mentions_per_month)
    logs = n * m.log_bytes / 1e9 * PRICE["cw_logs_gb"]
    parts = {
        "Lambda": lam,
        "DynamoDB": ddb,
        "SQS": sqs,
        "Step Functions": sfn,
        "EventBridge": events,
        "CloudWatch metrics": metrics,
        "CloudWatch logs": logs,
    }
    parts["total"] = sum(parts.values())
    return {k: round(v, 2) for k, v in parts.items()}


def run() -> None:
    path = Path(os.environ.get("BENCH_OUT", ".bench")) / "pipeline.json"
    measured = Measured.load(path)
    source = str(path) if path.is_file() else "the committed figures (no .bench/pipeline.json)"
    print(
        f"per-kind figures from {source}: case {measured.case_wru} WRU, {measured.transitions} transitions; "
        f"venting {measured.venting['wru']} WRU; praise {measured.praise['wru']} WRU"
    )
    actionable = float(os.environ.get("BENCH_ACTIONABLE", "0.20"))
    rows = [("listening only", Mix(actionable=0.0), 1e6)]
    rows += [
        (
            f"{actionable:.0%} actionable, {s:.0%} of those open a case",
            Mix(actionable=actionable, new_case_share=s),
            1e6,
        )
        for s in (0.05, 0.25, 1.0)
    ]
    rows += [
        (
            f"{actionable:.0%} actionable, 25% open a case, 10 M mentions a month",
            Mix(actionable=actionable, new_case_share=0.25, mentions_per_month=1e7),
            1e7,
        )
    ]
    for label, mix, _ in rows:
        parts = cost_per_million(mix, measured)
        cases = 1e6 * mix.actionable * mix.new_case_share
        print(f"{label} ({cases:,.0f} cases per million): " + ", ".join(f"{k} ${v:.2f}" for k, v in parts.items()))
