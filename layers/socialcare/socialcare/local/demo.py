"""`socialcare demo`: the whole product on one machine, end to end, in about a minute.

template.yaml is deployed into moto; a loopback server speaks the X API v2 recent-search shape and
serves the sample mentions wave by wave; the real X connector polls it; the real router and state
machine turn them into cases; simulated department agents work their queues through the SDK, some
on time, some late and some never, so that service levels are met, breached and escalated.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

WAVE_INTERVAL_S = 2.5
TAIL_S = 15.0


def demo_data_dir() -> Path:
    return Path(str(resources.files("socialcare") / "data" / "demo"))


def load_posts(path: Path | None = None, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The sample posts, oldest first, timestamped relative to `now` (default: the clock when they are
    served): the newest was written at `now`, the others keep their recorded order and spacing."""
    from socialcare.local.platform_server import as_of

    path = path or demo_data_dir() / "mentions.jsonl"
    posts = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return as_of(posts, now or datetime.now(UTC))


# How each department's simulated agents behave. Delays are fractions of the first-response SLA.
PERSONAS: dict[str, dict[str, Any]] = {
    "baggage": {"reply_at": 0.3, "handoff": "dm", "resolve_after": 4.0, "agent": "Priya (baggage)"},
    "operations": {"reply_at": 0.4, "transfer_to": "customer_care", "resolve_after": 3.0, "agent": "Tom (operations)"},
    "reservations": {"reply_at": 1.6, "resolve_after": 3.0, "agent": "Ana (reservations)"},
    "airport": {"reply_at": 0.5, "wait_customer": True, "resolve_after": 4.0, "agent": "Kofi (airport)"},
    "inflight": {"reply_at": None, "agent": "nobody (inflight)"},
    "customer_care": {"reply_at": 0.5, "handoff": "email", "resolve_after": 3.0, "agent": "Lena (customer care)"},
}


def _pick(case_id: str, percent: int) -> bool:
    """Deterministic per case: the same case gets the same treatment in every run."""
    return int(hashlib.sha256(case_id.encode()).hexdigest(), 16) % 100 < percent


@dataclass
class AgentSim:
    """Works the department queues through the SDK, on the clock."""

    client_for: Callable[[str], Any]
    first_response_s: float
    plans: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    done: Counter = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def plan(self, case_id: str, department: str, opened: float) -> None:
        p = PERSONAS.get(department, PERSONAS["customer_care"])
        steps: list[tuple[float, str]] = []
        reply_at = p["reply_at"]
        if reply_at is None and _pick(case_id, 60):
            steps = []  # never answered: escalates through every tier, then goes stale
        else:
            at = opened + (reply_at if reply_at is not None else 1.3) * self.first_response_s
            steps.append((at, "claim"))
            if p.get("transfer_to") and _pick(case_id, 25):
                steps.append((at + 0.2, "transfer"))
                at += 1.0
            if p.get("handoff") and _pick(case_id, 35):
                steps.append((at + 0.1, "handoff"))
            else:
                steps.append((at + 0.1, "reply"))
            if p.get("wait_customer") and _pick(case_id, 40):
                steps.append((at + 0.5, "wait_customer"))
            steps.append((at + p.get("resolve_after", 3.0), "resolve"))
        with self._lock:
            self.plans[case_id] = steps

    def due(self, now: float) -> list[tuple[str, str]]:
        out = []
        with self._lock:
            for case_id, steps in self.plans.items():
                while steps and steps[0][0] <= now:
                    out.append((case_id, steps.pop(0)[1]))
                    break
        return out

    def pending(self) -> int:
        with self._lock:
            return sum(1 for steps in self.plans.values() if steps)

    def act(self, case_id: str, step: str) -> None:
        from socialcare.cases.actions import ActionError

        client = self.client_for(case_id)
        case = client.case(case_id)
        if not case.is_open:
            return  # resolved meanwhile (by another agent, or the case was handled in its thread)
        persona = PERSONAS.get(case.department, PERSONAS["customer_care"])
        try:
            if step == "claim":
                client.claim(case_id, request_id=f"demo-{case_id}-claim-{case.department}")
            elif step == "reply":
                client.reply(
                    case_id,
                    "Thanks for telling us - I'm on it and will update you shortly.",
                    request_id=f"demo-{case_id}-reply",
                )
            elif step == "handoff":
                client.handoff(
                    case_id,
                    persona["handoff"],
                    "Hi, it's the team from Skylark Air. Could you send "
                    "your booking reference here so we can sort this out?",
                    request_id=f"demo-{case_id}-handoff",
                )
            elif step == "transfer":
                client.transfer(
                    case_id,
                    persona["transfer_to"],
                    "Customer needs compensation handled.",
                    request_id=f"demo-{case_id}-transfer",
                )
                # The receiving department plans its own work on the case it inherited.
                self.plan(case_id, persona["transfer_to"], time.monotonic())
                return
            elif step == "wait_customer":
                client.wait_customer(case_id, request_id=f"demo-{case_id}-wait")
            elif step == "resolve":
                client.resolve(
                    case_id,
                    "Sorted: rebooked / refunded / found, as the case needed.",
                    request_id=f"demo-{case_id}-resolve",
                )
            self.done[step] += 1
        except ActionError as exc:
            self.errors.append(f"{case_id} {step}: {exc}")


def _progress(msg: str, *, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr if quiet else sys.stdout, flush=True)


def run(*, json_output: bool = False, posts_path: Path | None = None, seed_waves: int | None = None) -> dict[str, Any]:
    # Handlers log and emit metrics to stdout in Lambda; here that would drown the progress lines.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    import warnings

    warnings.filterwarnings("ignore")
    import logging

    logging.getLogger("moto").setLevel(logging.CRITICAL)

    import boto3
    import requests

    from socialcare.agents import AgentClient
    from socialcare.assembly import build_deps
    from socialcare.ingest.http import Deadline
    from socialcare.ingest.poller import poll_source
    from socialcare.ingest.sinks import DynamoSeenIndex, SqsDeadLetterSink, SqsMentionSink
    from socialcare.ingest.state import DynamoCursorStore
    from socialcare.local import lambda_adapter
    from socialcare.local.platform_server import PlatformServer
    from socialcare.local.stack import local_stack
    from socialcare.sources import SourceConfig

    quiet = json_output
    started = time.monotonic()
    log_dir = Path(".local-stack")
    log_dir.mkdir(exist_ok=True)
    lambda_adapter.route_function_output((log_dir / "demo-handlers.log").open("w", encoding="utf-8"))
    _route_logs(lambda_adapter.OUTPUT.stream)
    posts = load_posts(posts_path)
    waves: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for post in posts:
        waves[int(post.get("wave", 0))].append(post)
    wave_ids = sorted(waves)[: seed_waves or None]

    config_path = str(demo_data_dir() / "brand.yaml")
    _progress("socialcare demo: deploying template.yaml into the embedded local stack (moto) ...", quiet=quiet)
    with local_stack({"BrandConfigPath": config_path}, stack_name="socialcare-demo") as stack:
        out = stack.outputs
        deps = build_deps()
        ssm = boto3.client("ssm")
        ssm.put_parameter(Name="/socialcare-demo/x-bearer", Value="demo-bearer-token", Type="SecureString")
        server = PlatformServer([], token="demo-bearer-token").start()  # noqa: S106 - fake loopback-server token
        source = SourceConfig(
            id="demo-x-search",
            platform="x",
            query="@SkylarkAir OR to:SkylarkAir",
            base_url=server.base_url,
            secret="ssm:/socialcare-demo/x-bearer",  # noqa: S106 - moto SSM parameter name, not a secret value
            backfill_s=7 * 86400,
            page_size=100,
        )
        ddb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
        session = requests.Session()
        cursor = DynamoCursorStore(ddb, out["TableName"])
        sink = SqsMentionSink(sqs, out["MentionsQueueUrl"])
        seen = DynamoSeenIndex(ddb, out["TableName"])
        dlq = SqsDeadLetterSink(sqs, out["IngestDeadLetterQueueUrl"])
        _progress(
            f"  stack up in {time.monotonic() - started:.1f}s; X API v2 loopback server at {server.base_url}",
            quiet=quiet,
        )

        sla = deps.config.sla
        clients: dict[str, Any] = {}

        def client_for(case_id: str) -> Any:
            dept = deps.store.get_case(case_id).department
            name = PERSONAS.get(dept, {}).get("agent", dept)
            if name not in clients:
                clients[name] = AgentClient(deps, name)
            return clients[name]

        sim = AgentSim(client_for=client_for, first_response_s=sla.first_response_s)
        totals: Counter = Counter()
        stop = threading.Event()

        def agents_loop() -> None:
            while not stop.is_set():
                for case_id, step in sim.due(time.monotonic()):
                    try:
                        sim.act(case_id, step)
                    except Exception as exc:  # noqa: BLE001 - the demo reports, and carries on
                        sim.errors.append(f"{case_id} {step}: {type(exc).__name__}: {exc}")
                stop.wait(0.05)

        workers = [threading.Thread(target=agents_loop, daemon=True, name=f"agents-{i}") for i in range(2)]
        for w in workers:
            w.start()

        def poll_and_route() -> None:
            result = poll_source(source, session, cursor, sink, Deadline(30), seen=seen, dead_letters=dlq)
            totals["polled_queued"] += result.queued
            totals["poll_duplicates"] += result.duplicates
            totals["poll_errors"] += result.errors
            _route_all()

        def _route_all() -> None:
            stats = stack.pump("RouteMentionFunction")
            totals["routed"] += stats.received

        intake = AgentClient(deps, "dispatcher")

        def track_new_cases() -> None:
            """Departments learn of new work from their SQS queues, as a real consumer would."""
            for dept in deps.config.department_names:
                while items := intake.pull_work_items(dept):
                    for item in items:
                        case_id = item.get("case_id")
                        if item.get("kind") != "work_item" or not case_id or item.get("reason") == "transfer":
                            continue  # transfers are planned by the agent who transferred
                        if sim.plans.get(case_id):
                            continue  # already being worked (a reopened case gets a new plan)
                        case = deps.store.get_case(case_id)
                        # Plans count from when the case opened, on this process's monotonic clock.
                        age = (deps.now() - case.opened_at).total_seconds()
                        sim.plan(case_id, case.department, time.monotonic() - age)

        _schedule_brand_posts(deps)
        first_poll_at = datetime.now(UTC)
        for n, wave in enumerate(wave_ids):
            server.add_posts(waves[wave])
            poll_and_route()
            track_new_cases()
            _progress(
                f"  wave {n + 1}/{len(wave_ids)}: {len(waves[wave])} posts; queued so far {totals['polled_queued']}, "
                f"cases planned {len(sim.plans)}, "
                f"agent actions {sum(sim.done.values())}",
                quiet=quiet,
            )
            time.sleep(WAVE_INTERVAL_S)

        _operator_handles_the_crisis(deps, stack, posts, quiet)
        # Redeliveries: the same mentions arrive again (an SQS retry, a re-poll after a crash).
        redelivered = posts[:: max(1, len(posts) // 12)][:12]
        cases_before = len(deps.store.scan_prefix("CASE#", "CASE"))
        for post in redelivered:
            item = deps.store.get_mention(f"x#{post['id']}")
            if item:
                sqs.send_message(QueueUrl=out["MentionsQueueUrl"], MessageBody=json.dumps(item["mention"]))
        stack.pump("RouteMentionFunction")
        totals["redelivered_opened_case"] = len(deps.store.scan_prefix("CASE#", "CASE")) - cases_before
        # A poll that finds nothing new: the cursor holds.
        poll_and_route()

        deadline = time.monotonic() + TAIL_S
        while time.monotonic() < deadline and (sim.pending() or _running(stack, out)):
            track_new_cases()
            time.sleep(0.5)
        stop.set()
        for w in workers:
            w.join(timeout=5)
        server.stop()
        report = build_report(deps, out, posts, totals, sim, redelivered)
        report.update(_crisis_report(deps))
        report["failure"] = why_incomplete(report, posts, totals, first_poll_at, source.backfill_s)
        (log_dir / "demo-agent-errors.log").write_text("\n".join(sim.errors) + "\n", encoding="utf-8")
        report["elapsed_s"] = round(time.monotonic() - started, 1)
    lambda_adapter.OUTPUT.stream.close()
    lambda_adapter.route_function_output(None)
    if json_output:
        print(json.dumps(report, sort_keys=True))
    else:
        print_report(report)
    if report["failure"]:
        print(f"demo incomplete: {report['failure']}", file=sys.stderr)
        for count, error in handler_failures(log_dir / "demo-handlers.log"):
            print(f"  {count} x {error}", file=sys.stderr)
    return report


def handler_failures(log: Path, limit: int = 5) -> list[tuple[int, str]]:
    """The handlers' logged failures, most frequent first: what a reader of a failed run (a CI log)
    needs before opening the whole handler log."""
    errors: Counter = Counter()
    with log.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if '"error"' not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("level") in {"WARNING", "ERROR"} and entry.get("error"):
                errors[f"{entry.get('message', '')}: {entry['error']}"] += 1
    return [(n, e) for e, n in errors.most_common(limit)]


def _route_logs(stream: Any) -> None:
    from socialcare.observability import route_logs

    route_logs(stream)


def _schedule_brand_posts(deps: Any) -> None:
    """Scheduled brand posts, one of them promotional and aimed at the region a crisis will hit."""
    from socialcare.reports import demo as crisis

    crisis.setup(deps)


def _operator_handles_the_crisis(deps: Any, stack: Any, posts: list[dict[str, Any]], quiet: bool) -> None:
    """The operator confirms the quiet period, posts are published or held, the outage incident resolved."""
    from socialcare.reports import demo as crisis

    done = crisis.after_waves(deps, stack, posts)
    resolved = done.get("resolved")
    incident = (
        f"incident {resolved['incident_id']}: {done['detected_members']} detected, "
        f"{done['linked_by_agent']} linked by the agent, one update to {resolved['customers']} customers"
        if resolved
        else "no incident detected"
    )
    _progress(
        f"  quiet period for latam (suggested: {done['quiet_suggested']}); scheduled posts {done['published']}; "
        f"{incident}",
        quiet=quiet,
    )


def _crisis_report(deps: Any) -> dict[str, Any]:
    """incidents, incident_updates_sent, quiet_held_posts and parity (per follower band) for --json."""
    from socialcare.reports import demo as crisis

    return crisis.report(deps)


def why_incomplete(
    report: dict[str, Any], posts: list[dict[str, Any]], totals: Counter, first_poll_at: datetime, backfill_s: int
) -> str | None:
    """One line saying why served mentions did not all arrive, or None when every one did and nothing
    was lost or dead-lettered. The likeliest cause is named first."""
    missing = report["mentions_served"] - report["mentions_ingested"]
    if missing <= 0 and not report["lost_mentions"] and not report["dlq_messages"]:
        return None
    floor = first_poll_at.timestamp() - backfill_s
    stale = sum(1 for p in posts if p["created_at"].timestamp() < floor)
    if stale:
        window = f"{backfill_s // 86400}-day" if backfill_s % 86400 == 0 else f"{backfill_s}-second"
        return f"{stale} posts are older than the source's {window} backfill window"
    if totals["poll_errors"]:
        return (
            f"{missing} of {report['mentions_served']} mentions not ingested: the X connector failed "
            f"{totals['poll_errors']} times (see .local-stack/demo-handlers.log)"
        )
    if report["dlq_messages"]:
        return f"{report['dlq_messages']} messages went to the dead-letter queues (see .local-stack/demo-handlers.log)"
    return (
        f"{max(missing, report['lost_mentions'])} of {report['mentions_served']} served mentions never reached "
        f"the mentions table (see .local-stack/demo-handlers.log)"
    )


def _running(stack: Any, out: dict[str, str]) -> int:
    import boto3

    sfn = boto3.client("stepfunctions")
    running = sfn.list_executions(stateMachineArn=out["StateMachineArn"], statusFilter="RUNNING").get("executions", [])
    return len(running)


def _p50(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def build_report(
    deps: Any,
    out: dict[str, str],
    posts: list[dict[str, Any]],
    totals: Counter,
    sim: AgentSim,
    redelivered: list[dict[str, Any]],
) -> dict[str, Any]:
    import boto3

    store = deps.store
    cases = [c for c in store.scan_prefix("CASE#", "CASE")]
    mentions = store.scan_prefix("MENTION#", "MENTION")
    stored_keys = {m["PK"].removeprefix("MENTION#") for m in mentions}
    lost = [p["id"] for p in posts if f"x#{p['id']}" not in stored_keys]
    sqs = boto3.client("sqs")

    def depth(url: str) -> int:
        attrs = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )
        return sum(int(v) for v in attrs["Attributes"].values())

    dlq = sum(
        depth(out[k])
        for k in ("MentionsDeadLetterQueueUrl", "IngestDeadLetterQueueUrl", "DepartmentDeadLetterQueueUrl")
    )
    by_dept: dict[str, dict[str, Any]] = {}
    event_counts: Counter = Counter()
    for case in cases:
        for event in store.events(case["id"]):
            event_counts[event["type"]] += 1
    for dept in deps.config.department_names:
        mine = [c for c in cases if c["department"] == dept]
        firsts = []
        for c in mine:
            if c.get("first_responded_at"):
                firsts.append(
                    (
                        datetime.fromisoformat(c["first_responded_at"]) - datetime.fromisoformat(c["opened_at"])
                    ).total_seconds()
                )
        breached = [c for c in mine if c.get("breaches", 0) > 0]
        by_dept[dept] = {
            "cases": len(mine),
            "first_response_p50_s": _p50(firsts),
            "sla_met_pct": round(100.0 * (len(mine) - len(breached)) / len(mine), 1) if mine else None,
            "breaches": len(breached),
            "escalations": sum(int(c.get("breaches", 0)) for c in mine),
            "resolved": sum(1 for c in mine if c["status"] == "resolved"),
        }
    outcomes = Counter("case" if m.get("case_id") else "no case" for m in mentions)
    return {
        "mentions_served": len(posts),
        "mentions_ingested": len(stored_keys),
        "duplicates_dropped": totals["poll_duplicates"] + len(redelivered),
        "duplicates_opened_case": (
            totals["redelivered_opened_case"] + (len(cases) - len({c["mention_key"] for c in cases}))
        ),
        "redelivered": len(redelivered),
        "cases_opened": len(cases),
        "cases_resolved": sum(1 for c in cases if c["status"] == "resolved"),
        "mentions_without_case": outcomes["no case"],
        "escalations": event_counts["case.escalated"],
        "transfers": event_counts["case.transferred"],
        "handoffs": event_counts["case.handed_off"],
        "replies": event_counts["case.replied"],
        "lost_mentions": len(lost),
        "dlq_messages": dlq,
        "agent_errors": len(sim.errors),
        "by_department": by_dept,
    }


def print_report(report: dict[str, Any]) -> None:
    print()
    print(
        f"{'department':<15}{'cases':>6}{'resolved':>9}{'1st resp p50':>14}"
        f"{'SLA met':>9}{'breaches':>9}{'escalations':>12}"
    )
    for dept, row in report["by_department"].items():
        p50 = "-" if row["first_response_p50_s"] is None else f"{row['first_response_p50_s']:.1f}s"
        met = "-" if row["sla_met_pct"] is None else f"{row['sla_met_pct']:.0f}%"
        print(
            f"{dept:<15}{row['cases']:>6}{row['resolved']:>9}{p50:>14}{met:>9}{row['breaches']:>9}{row['escalations']:>12}"
        )
    print()
    print(
        f"mentions ingested {report['mentions_ingested']}/{report['mentions_served']}, duplicates dropped "
        f"{report['duplicates_dropped']}, cases opened {report['cases_opened']}, resolved {report['cases_resolved']}, "
        f"not actionable {report['mentions_without_case']}"
    )
    print(
        f"escalations {report['escalations']}, transfers {report['transfers']}, hand-offs {report['handoffs']}, "
        f"lost mentions {report['lost_mentions']}, dead-letter messages {report['dlq_messages']}, "
        f"finished in {report['elapsed_s']}s"
    )
