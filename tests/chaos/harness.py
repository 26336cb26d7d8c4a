"""The chaos run: thousands of mentions through the real pipeline while things break.

Poller (real X connector) -> loopback platform server -> mentions queue -> router (route_mention
handler, in-process) -> cases and the real case state machine in moto -> agents acting through
the SDK. Faults injected on the way:

- platform: 429 storms with reset headers, 5xx, read timeouts;
- poller: a crash right after a cursor is stored (before the next page is queued), and a queue
  that accepts half a page then fails;
- SQS: duplicate deliveries and out-of-order delivery (replies before the posts they answer);
- router: a crash after the case transaction committed but before the workflow started;
- DynamoDB: ProvisionedThroughputExceededException injected with botocore event hooks, spread
  and as a storm that outlasts the SDK's retries; TransactWriteItems cancelled with every reason
  DynamoDB documents (TransactionConflict, throttling, request limits, validation, collection size),
  spread and as a storm that outlasts the store's own retries;
- concurrency: the router runs 4 invocations at once (as Lambda scales out); bursts of replies in one
  conversation and of posts by one customer land in the same moment on different routers;
- Lambda: invocations slowed past their function's Timeout mid-batch and stopped there;
- Step Functions: a task token used twice and after its wait ended; agent retries of one request;
- publishing: the sender dies after the platform accepted a post and before recording it (agent
  replies on X, scheduled brand posts on X and Mastodon), and the retry must not post again; every
  reply and post is counted on the platform itself;
- paging: the platform hands the same next_token back (a paging loop);
- poison: bodies that can never be a mention, and items the connector cannot parse.

Afterwards the dead-letter queues are redriven with `socialcare dlq redrive` (what an operator does)
and the run reports the numbers the suite asserts.
"""

from __future__ import annotations

import json
import random
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.awsrequest import AWSResponse

from tests.faults import CANCELLATION_CODES, CrashingSession, PostCrash, TransactionCanceller, throughput_exceeded

ACTIONABLE = [
    "@SkylarkAir my flight SK{n} was cancelled and nobody at the gate knows when the next one leaves",
    "@SkylarkAir bag still missing after 3 days, claim tag {n}, please help",
    "@SkylarkAir charged twice for seat selection on booking {n}, need a refund",
]
QUIET = [
    "@SkylarkAir thank you to the crew on SK{n}, lovely flight!",
    "Flying SkylarkAir to Lisbon tomorrow, first time! #{n}",
    "@SkylarkAir great service today on SK{n}",
    "lol SkylarkAir memes again {n}",
]
POISON_BODIES = [
    "not json at all",
    '{"platform": "x"}',
    json.dumps(
        {
            "platform": "X!",
            "id": "1",
            "author": {"id": "a", "handle": "h"},
            "text": "t",
            "created_at": "2026-01-01T00:00:00Z",
        }
    ),
    '{"a":[' * 20_000 + '"x"' + "]}" * 20_000,
    json.dumps({"platform": "x", "id": "", "author": {}, "text": None}),
]


CHAOS_CONFIG = str(Path(__file__).resolve().parent / "brand_chaos.yaml")


class SimulatedCrash(Exception):
    """A Lambda dying mid-invocation (timeout, out of memory): nothing after this point ran."""


@dataclass
class ChaosConfig:
    mentions: int = 5000
    actionable_share: float = 0.06
    customers: int = 120  # authors of the actionable mentions: later ones attach to their open case
    wave: int = 500
    seed: int = 7
    ddb_throttle_every: int = 400
    ddb_storm_calls: int = 12
    start_execution_crashes: int = 3
    duplicate_share: float = 0.05
    reorder_share: float = 0.05
    ingest_poison_items: int = 3
    tx_cancel_every: int = 25  # every Nth transaction cancelled, the reasons in turn
    tx_storm_calls: int = 24  # consecutive cancellations: outlasts the store's retries
    thread_burst: int = 30  # replies to one post, queued at once
    customer_burst: int = 8  # posts by one customer, queued at once
    lambda_timeout_s: float = 4.0  # the router's Timeout while invocations are slowed
    slow_call_s: float = 1.5  # each DynamoDB call of one router invocation per slowed wave
    crash_every_post: int = 5  # every Nth platform write by an agent or the publisher dies after it
    brand_posts: int = 12  # scheduled brand posts, half on X, half on Mastodon
    paging_loops: int = 2  # waves whose poll meets a repeated next_token


@dataclass
class Report:
    posted: int = 0
    poison_bodies: int = 0
    ingest_poison_items: int = 0
    mentions_stored: int = 0
    mentions_lost: int = 0
    cases: int = 0
    cases_opened_twice: int = 0
    executions: int = 0
    executions_running: int = 0
    executions_stuck_no_timer: int = 0
    open_cases_without_workflow: int = 0  # open, not stale, not flagged, and no execution running
    executions_failed: Counter = field(default_factory=Counter)  # by error
    executions_dead_without_alarm: int = 0
    bursts_doubled: int = 0  # a burst of one conversation or one customer on more than one case
    router_index_reads: int = 0  # queries on an eventually consistent index while routing
    customer_messages: int = 0
    customer_messages_sent_twice: int = 0
    platform_posts: int = 0  # replies and posts the platforms received
    platform_posts_sent_twice: int = 0  # the same text to the same place more than once, counted there
    outbound_states: Counter = field(default_factory=Counter)  # intents by settled state
    outbound_unsettled: list[str] = field(default_factory=list)  # each intent left "sending", and its case
    dead_letters: dict[str, Counter] = field(default_factory=dict)
    dead_letters_unaccounted: int = 0
    redriven: dict[str, int] = field(default_factory=dict)
    faults: Counter = field(default_factory=Counter)
    timings: Counter = field(default_factory=Counter)
    token_reuse_rejected: int = 0
    token_reuse_accepted: int = 0
    agent_errors: list[str] = field(default_factory=list)
    spent_tokens: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        return [
            f"mentions posted {self.posted} (+{self.poison_bodies} poison bodies, {self.ingest_poison_items} unparseable items)",
            f"mentions stored {self.mentions_stored}; mentions lost = {self.mentions_lost}",
            f"cases {self.cases}; cases opened twice = {self.cases_opened_twice}",
            f"executions {self.executions}; running {self.executions_running}; stuck with no timer = {self.executions_stuck_no_timer}",
            f"executions ended failed {dict(self.executions_failed)}; dead without an alarm = {self.executions_dead_without_alarm}; "
            f"open cases with no workflow = {self.open_cases_without_workflow}",
            f"bursts on more than one case = {self.bursts_doubled}; index reads while routing = {self.router_index_reads}",
            f"customer messages {self.customer_messages}; sent twice = {self.customer_messages_sent_twice}",
            f"posts on the platforms {self.platform_posts}; sent twice there = {self.platform_posts_sent_twice}; "
            f"outbound intents {dict(self.outbound_states)}; unsettled: {self.outbound_unsettled[:5]}",
            f"dead letters by reason: { {q: dict(c) for q, c in self.dead_letters.items()} }; unaccounted = {self.dead_letters_unaccounted}",
            f"redriven {self.redriven}; spent task tokens reused: rejected {self.token_reuse_rejected}, "
            f"accepted {self.token_reuse_accepted}",
            "faults injected, by class:",
            *(f"  {name:<52} {count:>6}" for name, count in sorted(self.faults.items())),
            f"agent errors {len(self.agent_errors)}: {self.agent_errors[:5]}",
            f"took {self.seconds:.1f}s ({', '.join(f'{k} {v:.1f}s' for k, v in self.timings.items())})",
        ]


# ---------------------------------------------------------------------------------------- faults
class DynamoThrottle:
    """ProvisionedThroughputExceededException on every Nth DynamoDB request, and storms on demand,
    answered before the request reaches moto (a `before-send` hook registered first)."""

    def __init__(self, every: int, counter: Counter) -> None:
        self.every = every
        self.storm = 0
        self.calls = 0
        self.counter = counter
        self._lock = threading.Lock()

    def __call__(self, request: Any, **kwargs: Any) -> AWSResponse | None:

        with self._lock:
            self.calls += 1
            hit = self.storm > 0 or (self.every and self.calls % self.every == 0)
            if self.storm > 0:
                self.storm -= 1
            if not hit:
                return None
            self.counter["dynamodb_throttled"] += 1
        return throughput_exceeded(request, "chaos: throughput exceeded")


class SlowRouterCalls:
    """Makes the DynamoDB calls of one router invocation (the first to call while armed) slow, so that
    it runs past its function's Timeout in the middle of its batch and is stopped there."""

    def __init__(self, thread_name: str) -> None:
        self.thread_name = thread_name
        self.armed = False
        self.delay = 0.0
        self.owner: threading.Thread | None = None
        self._lock = threading.Lock()

    def arm(self, delay: float) -> None:
        with self._lock:
            self.armed, self.delay, self.owner = True, delay, None

    def disarm(self) -> None:
        with self._lock:
            self.armed, self.owner = False, None

    def __call__(self, request: Any, **kwargs: Any) -> None:
        me = threading.current_thread()
        if me.name != self.thread_name:
            return None
        with self._lock:
            if not self.armed:
                return None
            if self.owner is None:
                self.owner = me
            if self.owner is not me:
                return None
        time.sleep(self.delay)
        return None


class IndexReads:
    """Counts queries on a secondary index made inside the router's invocations (routing must decide
    from strongly consistent base-table reads)."""

    def __init__(self, thread_name: str) -> None:
        self.thread_name = thread_name
        self.count = 0

    def __call__(self, params: dict[str, Any], **kwargs: Any) -> None:
        if threading.current_thread().name == self.thread_name and params.get("IndexName"):
            self.count += 1


class CrashingStartExecution:
    """The router dies after its case transaction committed, before the workflow started."""

    def __init__(self, crashes: int, counter: Counter) -> None:
        self.left = crashes
        self.counter = counter

    def __call__(self, **kwargs: Any) -> None:
        if self.left > 0:
            self.left -= 1
            self.counter["router_crash_after_commit"] += 1
            raise SimulatedCrash("router crashed after committing the case, before StartExecution")


class CrashAfterCursor:
    """Wraps the cursor store: saves the cursor, then the poller dies before queueing the next page."""

    def __init__(self, inner: Any, counter: Counter, crash_on: set[int]) -> None:
        self.inner = inner
        self.counter = counter
        self.crash_on = crash_on
        self.saves = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def save_cursor(self, state: Any, cursor: dict[str, Any]) -> Any:
        saved = self.inner.save_cursor(state, cursor)
        self.saves += 1
        if self.saves in self.crash_on:
            self.counter["poller_crash_after_cursor"] += 1
            raise SimulatedCrash("poller died after storing a cursor, before queueing the next page")
        return saved


class HalfQueueSink:
    """Accepts the first half of a page, then SQS fails: the cursor must not move."""

    def __init__(self, inner: Any, counter: Counter, fail_on: set[int]) -> None:
        self.inner = inner
        self.counter = counter
        self.fail_on = fail_on
        self.sends = 0

    def send(self, mentions: list[Any]) -> None:
        from socialcare.ingest.errors import QueueError

        self.sends += 1
        if self.sends in self.fail_on and len(mentions) > 1:
            self.inner.send(mentions[: len(mentions) // 2])
            self.counter["queue_failed_mid_page"] += 1
            raise QueueError("chaos: SQS failed half way through a page")
        self.inner.send(mentions)


# ---------------------------------------------------------------------------------------- the run
def _posts(cfg: ChaosConfig, rng: random.Random) -> list[dict[str, Any]]:
    start = datetime.now(UTC) - timedelta(hours=2)
    posts = []
    for i in range(cfg.mentions):
        actionable = rng.random() < cfg.actionable_share
        if actionable:
            author = rng.randrange(cfg.customers)
            text = ACTIONABLE[author % len(ACTIONABLE)].format(n=100 + i % 900)
        else:
            author = 10_000 + rng.randrange(2_000)
            text = QUIET[i % len(QUIET)].format(n=i)
        pid = str(1_900_000_000_000_000_000 + i)
        posts.append(
            {
                "id": pid,
                "author_id": str(7_000_000 + author),
                "username": f"traveller{author}",
                "name": f"T {author}",
                "followers": author % 5000,
                "text": text,
                "created_at": start + timedelta(milliseconds=i * 100),
                "conversation_id": pid,
                "in_reply_to_id": None,
                "lang": "en",
            }
        )
    return posts


def run_chaos(cfg: ChaosConfig) -> Report:
    from socialcare import aws
    from socialcare.agents import AgentClient
    from socialcare.assembly import build_deps, reset_deps
    from socialcare.cases.actions import ActionError
    from socialcare.dlq import redrive
    from socialcare.ingest.http import Deadline
    from socialcare.ingest.poller import poll_source
    from socialcare.ingest.sinks import DynamoSeenIndex, SqsDeadLetterSink, SqsMentionSink
    from socialcare.ingest.state import DynamoCursorStore
    from socialcare.local.platform_server import PlatformServer
    from socialcare.local.stack import local_stack
    from socialcare.sources import SourceConfig

    rng = random.Random(cfg.seed)
    report = Report()
    faults = report.faults
    started = time.monotonic()
    posts = _posts(cfg, rng)
    poison_posts = [
        {**posts[0], "id": str(1_800_000_000_000_000_000 + i), "_raw": {"id": None, "text": ["not", "text"]}}
        for i in range(cfg.ingest_poison_items)
    ]
    report.posted = len(posts)
    report.ingest_poison_items = len(poison_posts)

    # The platform runs first: the brand's write credentials point at it (replies and posts go out).
    server = PlatformServer([], token="chaos-bearer").start()  # noqa: S106 - a loopback test token
    # Removed when the run returns (the object's finaliser), unlike a bare mkdtemp.
    brand_dir = tempfile.TemporaryDirectory(prefix="chaos-brand-")
    brand = Path(brand_dir.name) / "brand.yaml"
    brand.write_text(
        f"extends: {CHAOS_CONFIG}\noutbound:\n"
        f"  x: {{secret: 'ssm:/{{stack}}/x-bearer', api_base: '{server.base_url}'}}\n"
        f"  mastodon: {{secret: 'ssm:/{{stack}}/x-bearer', api_base: '{server.base_url}'}}\n",
        encoding="utf-8",
    )
    with local_stack({"BrandConfigPath": str(brand)}) as stack:
        out = stack.outputs
        aws.reset_clients()
        reset_deps()
        # Faults live on the clients the handlers use (socialcare.aws), never on the harness's own.
        throttle = DynamoThrottle(cfg.ddb_throttle_every, faults)
        aws.client("dynamodb").meta.events.register_first("before-send.dynamodb", throttle)
        tx = {"every": cfg.tx_cancel_every, "storm": 0}

        def cancel(call: int, items: list[dict[str, Any]]) -> str | None:
            if tx["storm"] > 0:
                tx["storm"] -= 1
                return "TransactionConflict"
            if tx["every"] and call % tx["every"] == 0:
                return CANCELLATION_CODES[(call // tx["every"]) % len(CANCELLATION_CODES)]
            return None

        TransactionCanceller(cancel, faults).install(aws.client("dynamodb"))
        router_fn = stack.functions["RouteMentionFunction"]
        router_thread = f"lambda-{router_fn.name}"
        slow = SlowRouterCalls(router_thread)
        aws.client("dynamodb").meta.events.register_first("before-send.dynamodb", slow)
        index_reads = IndexReads(router_thread)
        aws.client("dynamodb").meta.events.register("before-parameter-build.dynamodb.Query", index_reads)
        crash_start = CrashingStartExecution(cfg.start_execution_crashes, faults)
        aws.client("stepfunctions").meta.events.register_first("before-call.states.StartExecution", crash_start)
        deps = build_deps()
        sqs, sfn = boto3.client("sqs"), boto3.client("stepfunctions")
        ddb = aws.client("dynamodb")  # the poller's DynamoDB calls are throttled too
        calm_ddb = boto3.client("dynamodb")  # the harness's own reads, for the report
        ssm = boto3.client("ssm")
        ssm.put_parameter(Name=f"/{stack.stack_name}/x-bearer", Value="chaos-bearer", Type="SecureString")

        # The sender dies after every Nth write the platform accepted (agents and the publisher, which
        # run here; the Lambda threads' acknowledgements are not crashed), before recording it.
        from socialcare.outbound import outbox

        outbox.HTTP_SESSION = CrashingSession(
            crash_on=lambda n: threading.current_thread() is threading.main_thread() and n % cfg.crash_every_post == 0,
            counter=faults,
            label=lambda url: "crash_between_post_and_record_" + ("mastodon" if "/api/v1/" in url else "x"),
        )
        source = SourceConfig(
            id="chaos-x",
            platform="x",
            query="@SkylarkAir",
            base_url=server.base_url,
            secret=f"ssm:/{stack.stack_name}/x-bearer",
            backfill_s=7 * 86400,
            page_size=100,
        )
        session = requests.Session()
        cursor = CrashAfterCursor(DynamoCursorStore(ddb, out["TableName"]), faults, crash_on={2, 17})
        sink = HalfQueueSink(SqsMentionSink(sqs, out["MentionsQueueUrl"]), faults, fail_on={2, 9, 23})
        seen = DynamoSeenIndex(ddb, out["TableName"])
        dlq = SqsDeadLetterSink(sqs, out["IngestDeadLetterQueueUrl"])
        queue = out["MentionsQueueUrl"]

        def poll(deadline_s: float = 20.0, rounds: int = 60) -> None:
            for _ in range(rounds):
                try:
                    result = poll_source(
                        source,
                        session,
                        cursor,
                        sink,
                        Deadline(deadline_s),
                        seen=seen,
                        dead_letters=dlq,
                        max_inline_wait_s=0.0,
                    )
                except SimulatedCrash:
                    continue
                if result.skipped == "rate_limited" or result.rate_limited:
                    # The source sleeps until the platform's reset; the chaos clock jumps there.
                    faults["poll_rate_limited"] += 1
                    cursor.inner.mark_rate_limited(source.id, time.time() - 1)
                    continue
                if result.errors and not result.dead_lettered:
                    continue  # a 5xx / timeout / half-queued page: the next poll replays it
                if result.queued == 0 and result.pages <= 1:
                    return

        def inject_sqs_chaos(wave: list[dict[str, Any]]) -> None:
            """Duplicate deliveries: copies of this wave's mentions queued again, newest first."""
            from socialcare.ingest.x import mention_from_post

            picks = [p for p in wave if rng.random() < cfg.duplicate_share]
            for post in reversed(picks):
                m = mention_from_post(post, {post["author_id"]: {"username": post["username"]}})
                sqs.send_message(QueueUrl=queue, MessageBody=m.model_dump_json())
                faults["sqs_duplicate_delivery"] += 1

        def route() -> None:
            for _ in range(50):
                stats = stack.pump("RouteMentionFunction")
                if stats.received == 0:
                    return

        def queue_posts(extra: list[dict[str, Any]]) -> None:
            from socialcare.ingest.x import mention_from_post

            for post in extra:
                m = mention_from_post(post, {post["author_id"]: {"username": post["username"]}})
                sqs.send_message(QueueUrl=queue, MessageBody=m.model_dump_json())
            posts.extend(extra)
            report.posted += len(extra)

        bursts: list[list[str]] = []  # mention keys that must share one case

        # ---- waves: the platform gets new posts, the poller pulls them, the router routes them
        waves = [posts[i : i + cfg.wave] for i in range(0, len(posts), cfg.wave)]
        agent = AgentClient(deps, "chaos-agent")
        acted: list[str] = []
        for n, wave in enumerate(waves):
            if n == 0:
                server.add_posts(poison_posts)
            server.add_posts(wave)
            if n % 3 == 0:
                server.fail_next(
                    429,
                    {"title": "Too Many Requests", "status": 429},
                    times=3,
                    headers={
                        "x-rate-limit-limit": "450",
                        "x-rate-limit-remaining": "0",
                        "x-rate-limit-reset": str(int(time.time()) + 1),
                    },
                )
                faults["platform_429"] += 3
            if n % 3 == 1:
                server.fail_next(503, "upstream unavailable", times=2)
                faults["platform_5xx"] += 2
            if n % 4 == 2:
                # The platform hangs longer than the poll's remaining time: the read times out.
                server.latency_s = 2.0
                poll(deadline_s=1.0, rounds=1)
                server.latency_s = 0.0
                faults["platform_timeout"] += 1
            if 0 < n <= cfg.paging_loops:
                server.repeat_next_token = 1  # this wave's poll gets its own page token back once
            phase = time.monotonic()
            loops_before = server.paging_loops_served
            poll()
            faults["paging_loop"] += server.paging_loops_served - loops_before
            report.timings["poll"] += time.monotonic() - phase
            inject_sqs_chaos(wave)
            if n == 1:
                # Out of order: reply mentions arrive before the posts they answer.
                for i in range(10):
                    root = wave[i]
                    reply = {
                        **root,
                        "id": str(int(root["id"]) + 50_000_000),
                        "in_reply_to_id": root["id"],
                        "text": "@SkylarkAir still waiting, any news?",
                    }
                    from socialcare.ingest.x import mention_from_post

                    m = mention_from_post(
                        {**reply, "author_id": reply["author_id"]},
                        {reply["author_id"]: {"username": reply["username"]}},
                    )
                    sqs.send_message(QueueUrl=queue, MessageBody=m.model_dump_json())
                    faults["sqs_out_of_order"] += 1
                    posts.append(reply)
                    report.posted += 1
            if n == 2:
                for body in POISON_BODIES:
                    sqs.send_message(QueueUrl=queue, MessageBody=body)
                report.poison_bodies = len(POISON_BODIES)
                faults["poison_bodies"] += len(POISON_BODIES)
            if n == len(waves) // 2:
                throttle.storm = cfg.ddb_storm_calls  # outlasts the SDK's 5 attempts: records fail, come back
                faults["dynamodb_storm"] += 1
            if n == 1 or n == len(waves) // 2 + 1:
                tx["storm"] = cfg.tx_storm_calls  # outlasts the store's retries: records fail, come back
                faults["transaction_storm"] += 1
            if n % 3 == 0:
                # Concurrent routers on one conversation and on one customer: a burst of replies to
                # one post and a burst of posts by one new customer, all queued at once.
                root = {
                    **wave[0],
                    "id": str(int(wave[0]["id"]) + 70_000_000),
                    "author_id": str(8_000_000 + n),
                    "username": f"burst{n}",
                    "text": ACTIONABLE[0].format(n=n),
                }
                root["conversation_id"] = root["id"]
                replies = [
                    {
                        **root,
                        "id": str(int(root["id"]) + 1 + i),
                        "author_id": str(8_100_000 + n * 100 + i),
                        "username": f"replier{n}x{i}",
                        "in_reply_to_id": root["id"],
                        "text": f"@SkylarkAir same here, flight SK{n} cancelled ({i})",
                    }
                    for i in range(cfg.thread_burst)
                ]
                own = [
                    {
                        **root,
                        "id": str(int(root["id"]) + 500 + i),
                        "conversation_id": str(int(root["id"]) + 500 + i),
                        "author_id": str(8_200_000 + n),
                        "username": f"insistent{n}",
                        "text": ACTIONABLE[1].format(n=n * 10 + i),
                    }
                    for i in range(cfg.customer_burst)
                ]
                queue_posts([root, *replies, *own])
                bursts.append([f"x#{p['id']}" for p in [root, *replies]])
                bursts.append([f"x#{p['id']}" for p in own])
                faults["concurrent_routers_one_conversation"] += len(replies) + 1
                faults["concurrent_routers_one_customer"] += len(own)
            slowed = n % 4 == 1
            if slowed:
                # Invocations run past the router's Timeout in the middle of their batches.
                saved_timeout, router_fn.timeout_s = router_fn.timeout_s, cfg.lambda_timeout_s
                slow.arm(cfg.slow_call_s)
                before = router_fn.timeouts
            phase = time.monotonic()
            route()
            report.timings["route"] += time.monotonic() - phase
            if slowed:
                router_fn.timeout_s = saved_timeout
                slow.disarm()
                faults["lambda_timeout_mid_batch"] += router_fn.timeouts - before
            phase = time.monotonic()
            # Agents work every open case; every request is sent twice (a retry after a timeout).
            every, throttle.every = throttle.every, 0  # agents act on a calm table
            tx_every, tx["every"] = tx["every"], 0
            acted += _work_cases(deps, agent, ActionError, report)
            throttle.every = every
            tx["every"] = tx_every
            report.timings["agents"] += time.monotonic() - phase
            _progress(
                f"wave {n + 1}/{len(waves)} t={time.monotonic() - started:.0f}s "
                f"{ {k: round(v, 1) for k, v in report.timings.items()} } faults={dict(faults)}"
            )
        throttle.every = 0
        tx["every"] = 0
        report.router_index_reads = index_reads.count

        # ---- scheduled brand posts on X and Mastodon; the publisher dies after some, then runs again
        phase = time.monotonic()
        _publish_brand_posts(deps, cfg, report)
        report.timings["brand_posts"] += time.monotonic() - phase

        # ---- a task token used twice, and one used after its wait ended
        _progress(f"waves done t={time.monotonic() - started:.0f}s")
        report.token_reuse_rejected = _reuse_tokens(deps, sfn, report.spent_tokens, report)

        # ---- the operator redrives the dead-letter queues, the pipeline takes the repaired messages
        for name in ("mentions", "ingest", "department"):
            report.redriven[name] = redrive(out, name, dry_run=False, sqs=sqs).returned
        route()
        _work_cases(deps, agent, ActionError, report)
        _progress(f"redriven {report.redriven} t={time.monotonic() - started:.0f}s")
        _settle(stack, sfn, out["StateMachineArn"])
        _progress(f"settled t={time.monotonic() - started:.0f}s")
        _measure(report, stack, deps, calm_ddb, sqs, sfn, out, posts)
        _measure_bursts(report, calm_ddb, out["TableName"], bursts)
        _measure_platform(report, server, calm_ddb, out["TableName"])
        _progress(f"measured t={time.monotonic() - started:.0f}s")
        outbox.HTTP_SESSION = None
    server.stop()
    report.seconds = time.monotonic() - started
    return report


def _progress(line: str) -> None:
    import sys

    print(f"chaos: {line}", file=sys.stderr, flush=True)


def _open_cases(deps: Any) -> list[Any]:
    cases = []
    for dept in deps.config.department_names:
        cases.extend(deps.store.open_cases(dept, limit=10_000))
    return cases


def _work_cases(deps: Any, agent: Any, action_error: type, report: Report) -> list[str]:
    """Claim, reply, resolve every open case; each request sent twice with the same request id."""
    acted = []
    for _ in range(3):
        cases = _open_cases(deps)
        if not cases:
            break
        for case in cases:
            for step, call in (
                ("claim", lambda c: agent.claim(c.id, request_id=f"chaos-{c.id}-{c.reopen_count}-claim")),
                (
                    "reply",
                    lambda c: agent.reply(
                        c.id,
                        f"Sorry about this - fixing it now ({c.id}/{c.reopen_count}).",
                        request_id=f"chaos-{c.id}-{c.reopen_count}-reply",
                    ),
                ),
                (
                    "resolve",
                    lambda c: agent.resolve(c.id, "sorted", request_id=f"chaos-{c.id}-{c.reopen_count}-resolve"),
                ),
            ):
                for _attempt in range(3):
                    try:
                        result = call(case)
                    except PostCrash:
                        continue  # the agent's tool died after X took the reply: it retries the same request
                    except action_error as exc:  # resolved meanwhile, or reopened: the state says no
                        report.faults[f"agent_refused_{type(exc).__name__}"] += 1
                        break
                    except Exception as exc:  # noqa: BLE001 - reported, and asserted on by the suite
                        report.agent_errors.append(f"{case.id} {step}: {type(exc).__name__}: {exc}")
                        break
                    if not result.replayed and "after" in result.detail:
                        # Its first attempt posted and died, then the case moved on: recorded, not refused.
                        report.faults["agent_reply_recorded_after_the_case_moved_on"] += 1
            acted.append(case.id)
            if len(report.spent_tokens) < 10:
                # The token the reply consumed: its wait has ended, so reusing it must change nothing.
                for event in deps.store.events(case.id):
                    if event.get("type") == "case.replied" and case.task_token:
                        report.spent_tokens.append((case.id, case.task_token))
                        break
    return acted


def _publish_brand_posts(deps: Any, cfg: ChaosConfig, report: Report) -> None:
    """Due brand posts, alternately on X and Mastodon; a run that dies mid-way is simply run again
    (the schedule's next tick), as the scheduled function would be."""
    from socialcare.quiet.service import Quiet

    quiet = Quiet(deps)
    due = deps.now() - timedelta(seconds=1)
    for i in range(cfg.brand_posts):
        quiet.schedule(
            due,
            f"Service update {i}: all flights on time today.",
            region=None,
            kind="service",
            platform=("x", "mastodon")[i % 2],
        )
    for _ in range(cfg.brand_posts + 2):
        try:
            quiet.publish_due()
        except PostCrash:
            continue
        if not quiet.posts("scheduled"):
            return
    report.agent_errors.append(f"scheduled posts still waiting: {len(quiet.posts('scheduled'))}")


def _measure_platform(report: Report, server: Any, ddb: Any, table: str) -> None:
    """Sent twice as the customer sees it: the same text to the same place twice on the platform."""
    published = list(server.published)
    report.platform_posts = len(published)
    same = Counter((p["platform"], p["text"], p["in_reply_to"]) for p in published)
    report.platform_posts_sent_twice = sum(1 for n in same.values() if n > 1)
    from socialcare.store import from_item

    for platform in ("x", "mastodon"):  # brand posts' intents; the cases' ones were counted in _measure
        kwargs: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "PK = :p AND begins_with(SK, :s)",
            "ExpressionAttributeValues": {":p": {"S": f"OUTBOX#{platform}"}, ":s": {"S": "SEND#"}},
        }
        while True:
            page = ddb.query(**kwargs)
            for item in page.get("Items", []):
                intent = from_item(item)
                report.outbound_states[intent.get("mode", "?")] += 1
                if intent.get("mode") == "sending":
                    report.outbound_unsettled.append(_unsettled(intent, {}, []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _unsettled(intent: dict[str, Any], case: dict[str, Any], events: list[dict[str, Any]]) -> str:
    """An intent left "sending", with what its case did around it: enough to tell who stopped retrying."""
    what = {k: intent.get(k) for k in ("SK", "kind", "attempts", "attempt_at")}
    state = {k: case.get(k) for k in ("status", "stale", "workflow_failed", "reopen_count", "version")}
    recent = [(e.get("type"), e.get("at"), e.get("actor")) for e in events[-6:]]
    return f"{intent['PK']} {what} case {state} events {recent}"


def _reuse_tokens(deps: Any, sfn: Any, spent: list[tuple[str, str]], report: Report) -> int:
    """Task tokens whose wait already ended, each sent twice: Step Functions refuses them and the
    case does not change."""
    from botocore.exceptions import ClientError

    rejected = 0
    for case_id, token in spent:
        before = deps.store.get_case(case_id).version
        for _ in range(2):
            try:
                sfn.send_task_success(taskToken=token, output=json.dumps({"type": "resolve"}))
                report.token_reuse_accepted += 1
            except ClientError:
                rejected += 1
        if deps.store.get_case(case_id).version != before:
            report.token_reuse_accepted += 1
    return rejected


def _settle(stack: Any, sfn: Any, machine_arn: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = sfn.list_executions(stateMachineArn=machine_arn, statusFilter="RUNNING", maxResults=1000)[
            "executions"
        ]
        if not running:
            return
        time.sleep(0.5)


def _scan(ddb: Any, table: str, prefix: str) -> list[dict[str, Any]]:
    from socialcare.store import from_item

    items, kwargs = (
        [],
        {
            "TableName": table,
            "FilterExpression": "begins_with(PK, :p)",
            "ExpressionAttributeValues": {":p": {"S": prefix}},
        },
    )
    while True:
        page = ddb.scan(**kwargs)
        items.extend(from_item(i) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _case_of(execution_name: str) -> str:
    """SC-XXXXXXXX, SC-XXXXXXXX-r1 (reopened), SC-XXXXXXXX-w1 (restarted after a failure)."""
    return execution_name.split("-r")[0].split("-w")[0]


def _measure_bursts(report: Report, ddb: Any, table: str, bursts: list[list[str]]) -> None:
    from socialcare.store import from_item

    for keys in bursts:
        cases = set()
        for key in keys:
            item = ddb.get_item(
                TableName=table, Key={"PK": {"S": f"MENTION#{key}"}, "SK": {"S": "MENTION"}}, ConsistentRead=True
            ).get("Item")
            if item:
                cases.add(from_item(item).get("case_id"))
        if len(cases - {None}) > 1:
            report.bursts_doubled += 1


# The workflow state that flags the case before an execution ends with this error.
FLAG_STATES = {"CaseStale": "MarkStale", "CaseWorkflowFailed": "RecordWorkflowFailure"}


def _measure(
    report: Report,
    stack: Any,
    deps: Any,
    ddb: Any,
    sqs: Any,
    sfn: Any,
    out: dict[str, str],
    posts: list[dict[str, Any]],
) -> None:
    from socialcare.dlq import classify_dead_letter

    table = out["TableName"]
    mentions = {i["PK"].removeprefix("MENTION#") for i in _scan(ddb, table, "MENTION#") if i["SK"] == "MENTION"}
    expected = {f"x#{p['id']}" for p in posts}
    report.mentions_stored = len(mentions & expected)
    report.mentions_lost = len(expected - mentions)

    case_items = _scan(ddb, table, "CASE#")
    cases = [i for i in case_items if i["SK"] == "CASE"]
    report.cases = len(cases)
    by_mention = Counter(c["mention_key"] for c in cases)
    opened = Counter(
        i["case_id"] for i in case_items if i["SK"].startswith("EVENT#") and i.get("type") == "case.opened"
    )
    report.cases_opened_twice = sum(1 for n in by_mention.values() if n > 1) + sum(1 for n in opened.values() if n > 1)

    out_msgs = [i for i in case_items if i["SK"].startswith("MSG#") and i.get("direction") == "out"]
    report.customer_messages = len(out_msgs)
    per_request = Counter((i["PK"], i["SK"].split("#", 2)[2]) for i in out_msgs)  # MSG#{at}#{request}-{i}
    per_text = defaultdict(Counter)
    for i in out_msgs:
        per_text[i["PK"]][(i.get("channel"), i.get("text"), i.get("author"))] += 1
    reopen = {c["PK"]: c.get("reopen_count", 0) for c in cases}
    report.customer_messages_sent_twice = sum(1 for n in per_request.values() if n > 1) + sum(
        1 for pk, texts in per_text.items() for n in texts.values() if n > 1 + reopen.get(pk, 0)
    )
    outbound = Counter(i["SK"] for i in case_items if i["SK"].startswith("OUTBOUND#"))
    report.outbound_states.update(i.get("mode", "?") for i in case_items if i["SK"].startswith("OUTBOUND#"))
    by_pk = {c["PK"]: c for c in cases}
    for i in case_items:
        if i["SK"].startswith("OUTBOUND#") and i.get("mode") == "sending":
            report.outbound_unsettled.append(_unsettled(i, by_pk.get(i["PK"], {}), deps.store.events(i["PK"][5:])))
    report.customer_messages_sent_twice += sum(1 for n in outbound.values() if n > 1)

    machine = out["StateMachineArn"]
    executions = []
    kwargs: dict[str, Any] = {"stateMachineArn": machine, "maxResults": 1000}
    while True:
        page = sfn.list_executions(**kwargs)
        executions.extend(page["executions"])
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    report.executions = len(executions)
    running = [e for e in executions if e["status"] == "RUNNING"]
    report.executions_running = len(running)
    by_id = {c["id"]: c for c in cases}
    for e in executions:
        if e["status"] in {"RUNNING", "SUCCEEDED"}:
            continue
        events = sfn.get_execution_history(executionArn=e["executionArn"], maxResults=1000)["events"]
        failed = next(
            (ev.get("executionFailedEventDetails", {}) for ev in events if ev["type"] == "ExecutionFailed"), {}
        )
        error = failed.get("error", e["status"])
        report.executions_failed[error] += 1
        case = by_id.get(_case_of(e["name"]))
        # Ended is fine when it says why where people look: a stale case (escalated through every tier)
        # or a failure flagged on the case (escalation queue, WorkflowFailures alarm). A later reopen or
        # restart clears the case's flag, so an execution it superseded is judged by its own history:
        # the state that writes the flag ran before the execution ended.
        flagged_then = any(
            (ev.get("stateExitedEventDetails") or {}).get("name") == FLAG_STATES.get(error) for ev in events
        )
        superseded = case is not None and case.get("execution_name") != e["name"]
        flagged = case is not None and (
            (error == "CaseStale" and case.get("stale"))
            or (error == "CaseWorkflowFailed" and case.get("workflow_failed"))
            or (superseded and flagged_then)
        )
        if not flagged:
            report.executions_dead_without_alarm += 1
    running_names = {e["name"] for e in running}
    for case in cases:
        if case.get("status") == "resolved" or case.get("stale") or case.get("workflow_failed"):
            continue
        if case.get("execution_name") not in running_names:
            report.open_cases_without_workflow += 1
    for e in running:
        case = by_id.get(_case_of(e["name"]))
        # Running is fine only while the case is open and its execution waits on a timed task token.
        if not case or case.get("status") == "resolved" or not case.get("clock") or not case.get("task_token"):
            report.executions_stuck_no_timer += 1

    for name, key in (
        ("mentions", "MentionsDeadLetterQueueUrl"),
        ("ingest", "IngestDeadLetterQueueUrl"),
        ("department", "DepartmentDeadLetterQueueUrl"),
    ):
        reasons: Counter = Counter()
        while True:
            got = sqs.receive_message(
                QueueUrl=out[key],
                MaxNumberOfMessages=10,
                VisibilityTimeout=600,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not got:
                break
            for m in got:
                reasons[classify_dead_letter(name, m).reason_kind] += 1
        report.dead_letters[name] = reasons
        report.dead_letters_unaccounted += reasons.get("unknown", 0)
