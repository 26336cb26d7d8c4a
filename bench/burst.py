"""Burst benchmark: a viral complaint brings 20,000 new posts to one X search; ingest them all, as fast
as the platform's rate limit allows, with none skipped and none doubled.

The loopback X server enforces a fixed-window rate limit with real x-rate-limit-* headers (scaled
down in time so the run takes seconds, not the 15 minutes of the real 450-request window). The
burst lands while the poller is already paging. The poller runs the real connector and cursor logic
and sleeps until each window resets instead of hammering 429s. Sinks are in memory by default: moto's
in-process SQS slows down with every message it holds (0.2 s per batch at first, over 1 s after
2,000 messages), so with --moto the figure measures moto rather than the poller.

    .venv/bin/python -m bench.burst [--posts 20000] [--limit 40] [--window 2] [--moto]
"""

from __future__ import annotations

import argparse
import math
import os
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from socialcare.ingest.http import Deadline
from socialcare.ingest.poller import poll_source
from socialcare.ingest.sinks import (
    DynamoSeenIndex,
    MemoryDeadLetterSink,
    MemoryMentionSink,
    MemorySeenIndex,
    SqsDeadLetterSink,
    SqsMentionSink,
)
from socialcare.ingest.state import DynamoCursorStore, MemoryCursorStore
from socialcare.local.platform_server import PlatformServer, sample_posts
from socialcare.sources import SourceConfig

PAGE = 100
BASE_ID = 1_950_000_000_000_000_000
TOKEN = "bench-token"  # noqa: S105 - loopback only


class _CountingSink:
    """Counts what SQS accepted and checks nothing arrives twice (reads nothing back from SQS)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.keys: set[str] = set()
        self.doubled = 0

    def send(self, mentions: list[Any]) -> None:
        self.inner.send(mentions)
        for m in mentions:
            if m.key in self.keys:
                self.doubled += 1
            self.keys.add(m.key)


def _aws_ports(stack: ExitStack) -> tuple[Any, Any, Any, Any]:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import boto3
    from moto import mock_aws

    stack.enter_context(mock_aws())
    ddb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
    ddb.create_table(
        TableName="bench",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
    )
    queue = sqs.create_queue(QueueName="bench-mentions")["QueueUrl"]
    dlq = sqs.create_queue(QueueName="bench-ingest-dlq")["QueueUrl"]
    return (
        DynamoCursorStore(ddb, "bench"),
        SqsMentionSink(sqs, queue),
        DynamoSeenIndex(ddb, "bench"),
        SqsDeadLetterSink(sqs, dlq),
    )


def burst(
    posts: int = 20_000, limit: int = 40, window: float = 2.0, *, memory: bool = True, waves: int = 4
) -> dict[str, Any]:
    """Run the burst and return the figures."""
    with ExitStack() as stack:
        if memory:
            store, inner, seen, dead = (
                MemoryCursorStore(),
                MemoryMentionSink(),
                MemorySeenIndex(),
                MemoryDeadLetterSink(),
            )
        else:
            store, inner, seen, dead = _aws_ports(stack)
        sink = _CountingSink(inner)
        server = stack.enter_context(
            PlatformServer(sample_posts(50, start_id=BASE_ID - 1000), token=TOKEN, rate_limit=(limit, window))
        )
        source = SourceConfig(
            id="bench-x-burst",
            platform="x",
            query="@SkylarkAir",
            base_url=server.base_url,
            secret="secretsmanager:bench",  # noqa: S106 - a reference; the bench passes TOKEN
            backfill_s=86_400,
        )
        session = requests.Session()

        def poll() -> Any:
            # One scheduled invocation: a 60 s budget; waits for a window reset in-process when it fits.
            return poll_source(
                source,
                session,
                store,
                sink,
                Deadline(60),
                seen=seen,
                dead_letters=dead,
                secrets=lambda ref: TOKEN,
                max_inline_wait_s=window + 1,
            )

        warm = poll()  # the quiet before: the cursor sits at the newest old post
        server.requests = 0
        server.rate_limited_responses = 0
        start = datetime.now(UTC) - timedelta(minutes=30)
        burst_posts = sample_posts(posts, start_id=BASE_ID, start=start, step_s=1800 / posts)
        chunk = math.ceil(posts / waves)

        def arrive() -> None:  # the burst keeps arriving while the poller is already paging
            for i in range(0, posts, chunk):
                server.add_posts(burst_posts[i : i + chunk])
                time.sleep(0.5)

        arrivals = threading.Thread(target=arrive, daemon=True)
        began = time.perf_counter()
        arrivals.start()
        totals = {"queued": 0, "duplicates": 0, "errors": 0, "rate_limited": 0, "polls": 0, "empty_polls": 0}
        while True:
            result = poll()
            totals["polls"] += 1
            for key in ("queued", "duplicates", "errors", "rate_limited"):
                totals[key] += getattr(result, key)
            if result.rate_limited_until and result.rate_limited_until > time.time():
                time.sleep(result.rate_limited_until - time.time())  # the scheduler honours the stored reset
            elif result.queued == 0:
                totals["empty_polls"] += 1
                time.sleep(0.25)  # nothing new yet: the next scheduled poll
            done = not arrivals.is_alive() and len(sink.keys & {f"x#{p['id']}" for p in burst_posts[-1:]}) == 1
            if done and result.queued == 0 and result.rate_limited == 0 and result.errors == 0:
                break
        elapsed = time.perf_counter() - began
        expected = {f"x#{p['id']}" for p in burst_posts}
        got = sink.keys & expected
        data_requests = server.requests - server.rate_limited_responses
        minimum = math.ceil(posts / PAGE)
        return {
            "backend": "memory" if memory else "moto (SQS + DynamoDB)",
            "posts": posts,
            "queued": len(got),
            "skipped": len(expected - got),
            "doubled": sink.doubled,
            "seconds": round(elapsed, 2),
            "mentions_per_s": round(len(got) / elapsed, 1),
            "limit_mentions_per_s": round(limit * PAGE / window, 1),
            "requests": server.requests,
            "requests_429": server.rate_limited_responses,
            "data_requests": data_requests,
            "minimum_requests": minimum,
            "polls": totals["polls"],
            "empty_polls": totals["empty_polls"],
            "warm_queued": warm.queued,
            "errors": totals["errors"],
        }


def run(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="20,000-post burst on one X source, through the rate limit")
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--limit", type=int, default=40, help="requests per window (X: 450)")
    parser.add_argument("--window", type=float, default=2.0, help="window seconds (X: 900; scaled down here)")
    parser.add_argument("--moto", action="store_true", help="SQS/DynamoDB adapters against moto (slow, see above)")
    args = parser.parse_args(argv if argv is not None else [])
    r = burst(args.posts, args.limit, args.window, memory=not args.moto)
    print(
        f"burst on one X recent-search source, rate limit {args.limit} requests / {args.window:g} s, "
        f"{PAGE} posts per page, sinks: {r['backend']}"
    )
    rows = [
        ("posts in the burst", r["posts"]),
        ("queued (unique)", r["queued"]),
        ("skipped", r["skipped"]),
        ("queued twice", r["doubled"]),
        ("elapsed s", r["seconds"]),
        ("mentions / s", r["mentions_per_s"]),
        ("rate-limit ceiling mentions / s", r["limit_mentions_per_s"]),
        ("requests made (incl. empty checks)", r["requests"]),
        ("  of which 429", r["requests_429"]),
        ("minimum possible requests", r["minimum_requests"]),
        ("poll invocations", r["polls"]),
        ("  of which found nothing new", r["empty_polls"]),
    ]
    for name, value in rows:
        print(f"  {name:<38} {value:>10}")
    return r


if __name__ == "__main__":
    import sys

    run(sys.argv[1:])
