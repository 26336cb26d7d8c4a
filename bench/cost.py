"""Cost per million mentions from AWS public on-demand prices (us-east-1, arm64), at a stated mix.

Request counts per mention are the ones bench/pipeline.py measures on the local stack (kept here as
the defaults so the model runs without a stack); durations are conservative estimates for a 512 MB
arm64 function. Platform API fees are excluded. docs/cost.md explains every line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# USD, us-east-1, public on-demand price pages (checked 2026): Lambda, Step Functions, DynamoDB,
# SQS, EventBridge, CloudWatch.
PRICE = {
    "lambda_gb_s_arm": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    "sfn_transition": 0.025 / 1e3,
    "ddb_wru": 0.625 / 1e6,  # on-demand write request unit (1 KB)
    "ddb_rru": 0.125 / 1e6,  # on-demand read request unit (4 KB strongly consistent)
    "sqs_request": 0.40 / 1e6,  # per 64 KB chunk
    "eventbridge_event": 1.00 / 1e6,
    "cw_metric_month": 0.30,  # per custom metric (EMF), first 10,000
    "cw_logs_gb": 0.50,  # ingestion
}


@dataclass
class Mix:
    actionable: float = 0.20  # share of mentions that ask for something
    new_case_share: float = 0.25  # of actionable mentions, the share that opens a case (rest attach to one)
    mentions_per_month: float = 1e6


@dataclass
class PerMention:
    """Requests one mention causes, by kind (measured by bench/pipeline.py; see docs/cost.md)."""

    router_ms: float = 40.0  # in-Lambda time per mention (batch of 10 shares the invoke overhead)
    poller_ms: float = 3.0
    batch: int = 10
    wru_quiet: float = 1.0  # conditional put of the MENTION item (< 1 KB)
    rru_quiet: float = (
        2.5  # poller dedup BatchGet share, thread lookup, customer's recent cases, incident index
    )
    wru_incident: float = 2.0  # measured: one BatchWriteItem per mention (incident/crisis index), ~2 items
    sqs_quiet: float = 0.3  # batched send (1/10), receive (1/10) and delete (1/10)
    logs_bytes: float = 300.0
    # a new case
    wru_case: float = 14.0  # 7-item transaction (2 WRU per transactional item)
    rru_case: float = 6.0
    transitions_case: float = 8.0  # measured happy path (bench.pipeline); escalations add 3-4 per tier
    events_case: float = 6.0  # EventBridge: opened, routed, claimed, replied, resolved (+1)
    sqs_case: float = 3.0  # work item + pulls
    lambda_case_invocations: float = 4.0  # await_action per wait + agent API calls
    lambda_case_ms: float = 150.0
    wru_actions: float = 18.0  # claim, reply, resolve: each a transaction of 3-4 items, 2 WRU per item
    # an attached mention
    wru_attach: float = 6.0  # 3-item transaction
    rru_attach: float = 4.0


def cost_per_million(mix: Mix | None = None, pm: PerMention | None = None) -> dict[str, float]:
    mix, pm = mix or Mix(), pm or PerMention()
    n = 1e6
    cases = n * mix.actionable * mix.new_case_share
    attached = n * mix.actionable - cases
    gb = 0.5
    lam = (
        n * (pm.router_ms + pm.poller_ms) / 1000 * gb
        + cases * pm.lambda_case_invocations * pm.lambda_case_ms / 1000 * gb
    ) * PRICE["lambda_gb_s_arm"] + (n / pm.batch + cases * pm.lambda_case_invocations) * PRICE[
        "lambda_request"
    ]
    ddb = (
        n * (pm.wru_quiet + pm.wru_incident)
        + cases * (pm.wru_case + pm.wru_actions)
        + attached * pm.wru_attach
    ) * PRICE["ddb_wru"] + (n * pm.rru_quiet + cases * pm.rru_case + attached * pm.rru_attach) * PRICE[
        "ddb_rru"
    ]
    sqs = (n * pm.sqs_quiet + cases * pm.sqs_case) * PRICE["sqs_request"]
    sfn = cases * pm.transitions_case * PRICE["sfn_transition"]
    events = cases * pm.events_case * PRICE["eventbridge_event"]
    metrics = 12 * PRICE["cw_metric_month"] * (n / mix.mentions_per_month)  # ~12 custom metrics, one month
    logs = n * pm.logs_bytes / 1e9 * PRICE["cw_logs_gb"]
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
    actionable = float(os.environ.get("BENCH_ACTIONABLE", "0.20"))
    for new_case in (0.25, 0.5, 1.0):
        mix = Mix(actionable=actionable, new_case_share=new_case)
        parts = cost_per_million(mix)
        print(
            f"{actionable:.0%} actionable, {new_case:.0%} of those open a case "
            f"({actionable * new_case * 1e6:,.0f} cases per million mentions):"
        )
        print("  " + ", ".join(f"{k} ${v:.2f}" for k, v in parts.items()))
    print("0% actionable (pure listening): total $" + str(cost_per_million(Mix(actionable=0.0))["total"]))
