"""`socialcare poll`: run the real connector against a platform API for N cycles.

Into the stack the command line names (or a running `socialcare local up`, whose router then turns the
mentions into cases); with none, into an embedded local stack (template.yaml in moto) in this process.
The cursor lives in the stack's table and carries across cycles. A post seen again in a later cycle
counts as a duplicate: the run keeps its own seen-set on top of the router's MENTION items (in the
embedded stack, --route drains the queue between cycles). The token goes into the stack's Secrets
Manager and is read back through Powertools Parameters, the same path a deployed poller takes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Iterator
from typing import Any, TextIO

from pydantic import ValidationError

from socialcare.sources import SourceConfig

PLATFORMS = ("x", "mastodon", "bluesky", "reddit", "rss", "youtube", "gbp", "trustpilot")
LOCAL_CLIENT_ID = "socialcare-local"
LOCAL_IDENTIFIER = "skylark.bsky.social"


def local_source(
    platform: str,
    base_url: str,
    query: str | None,
    *,
    mode: str | None = None,
    secret: str | None = None,
    page_size: int | None = None,
) -> SourceConfig:
    """The SourceConfig the command polls: the query lands in the field each platform needs."""
    values: dict[str, Any] = {
        "id": f"local-{platform}",
        "platform": platform,
        "base_url": base_url,
        "secret": secret,
        "backfill_s": 7 * 24 * 3600,
        "page_size": page_size,
    }
    q = query or ""
    values.update(_query_fields(platform, base_url, q, mode))
    try:
        return SourceConfig(**values)
    except ValidationError as exc:
        from socialcare.errors import UsageError

        reason = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise UsageError(f"poll --platform {platform}: {reason} (give it with --query)") from exc


def _query_fields(platform: str, base_url: str, q: str, mode: str | None) -> dict[str, Any]:
    """Where the query goes for each platform."""
    values: dict[str, Any] = {}
    if platform == "x":
        if (mode or "search") == "search":
            values.update(mode="search", query=q)
        else:
            values.update(mode="mentions", user_id=q)
    elif platform == "mastodon":
        values.update(mode=mode or ("search" if q else "notifications"), query=q or None)
    elif platform in ("bluesky",):
        values.update(query=q)
    elif platform == "reddit":
        if q.startswith("r/"):
            values.update(mode=mode or "subreddit", subreddit=q[2:])
        else:
            values.update(mode=mode or "search", query=q)
        values["auth_url"] = base_url
    elif platform == "rss":
        values.update(feed_url=q if q.startswith(("http://", "https://")) else base_url.rstrip("/") + (q or ""))
    elif platform == "youtube":
        values.update(mode=mode or "video", video_id=q, channel_id=q)
    elif platform == "gbp":
        values.update(location=q)
    elif platform == "trustpilot":
        values.update(business_unit_id=q)
    return values


def _secret_value(platform: str, token: str) -> str:
    if platform == "bluesky":
        return json.dumps({"identifier": LOCAL_IDENTIFIER, "app_password": token})
    if platform == "reddit":
        return json.dumps({"client_id": LOCAL_CLIENT_ID, "client_secret": token})
    if platform == "gbp":
        return json.dumps({"access_token": token})
    return token


def _line(mention: Any) -> str:
    return json.dumps(
        {
            "platform": mention.platform,
            "id": mention.id,
            "author": mention.author.handle,
            "author_id": mention.author.id,
            "followers": mention.author.followers,
            "text": mention.text,
            "created_at": mention.created_at.isoformat(),
            "lang": mention.lang,
            "permalink": mention.permalink,
            "conversation_id": mention.conversation_id,
            "in_reply_to_id": mention.in_reply_to_id,
            "rating": mention.rating,
        },
        ensure_ascii=False,
    )


def _names_a_stack(args: argparse.Namespace) -> bool:
    """Whether the command line or the environment points at a stack (AWS, an endpoint, `local up`)."""
    from socialcare.agents.connect import target_from_args

    explicit = args.stack or args.profile or args.aws_region or args.endpoint_url
    return bool(explicit or target_from_args(args).endpoint_url)


@contextlib.contextmanager
def _poll_target(args: argparse.Namespace) -> Iterator[tuple[Any, Any]]:
    """(settings, pump): the stack named (or `local up`), whose own router drains the queue; else an
    embedded local stack, routed between cycles only with --route."""
    if _names_a_stack(args):
        from socialcare.assembly import deps_from_args

        yield deps_from_args(args).settings, None
        return
    from socialcare.local.stack import local_stack
    from socialcare.settings import get_settings

    with local_stack() as stack:
        yield get_settings(), (lambda: stack.pump("RouteMentionFunction")) if args.route else None


def _store_token(stack_name: str, platform: str, token: str) -> str:
    from socialcare import aws

    name = f"{stack_name}/poll/{platform}"
    secrets = aws.client("secretsmanager")
    try:
        secrets.create_secret(Name=name, SecretString=_secret_value(platform, token))
    except secrets.exceptions.ResourceExistsException:
        secrets.put_secret_value(SecretId=name, SecretString=_secret_value(platform, token))
    return f"secretsmanager:{name}"


def run_poll(args: argparse.Namespace, out: TextIO) -> int:
    from socialcare import aws
    from socialcare.ingest.http import Deadline
    from socialcare.ingest.service import poll_configured_source
    from socialcare.ingest.sinks import DynamoSeenIndex

    # A wrong --query is a usage error before any stack is touched.
    local_source(args.platform, args.base_url, args.query, mode=args.mode, page_size=args.page_size)
    totals = {"queued": 0, "duplicates": 0, "rate_limited": 0, "errors": 0}
    with _poll_target(args) as (settings, pump):
        secret_ref = _store_token(settings.stack_name, args.platform, args.token) if args.token is not None else None
        source = local_source(
            args.platform,
            args.base_url,
            args.query,
            mode=args.mode,
            secret=secret_ref,
            page_size=args.page_size,
        )
        # One seen-set for the whole run, on top of the router's MENTION items in the table.
        seen = DynamoSeenIndex(aws.client("dynamodb"), settings.table_name)
        for cycle in range(args.cycles):
            if cycle:
                time.sleep(args.interval)
            result = poll_configured_source(settings, source, Deadline(args.budget), seen=seen, keep_new=True)
            for key, value in result.counts().items():
                totals[key] += value
            if args.print:
                for mention in result.new:
                    print(_line(mention), file=out, flush=True)
            print(
                f"cycle {cycle + 1}: {json.dumps(result.counts())} requests={result.requests}"
                + (f" skipped={result.skipped}" if result.skipped else ""),
                file=sys.stderr,
                flush=True,
            )
            if pump is not None and result.queued:
                with contextlib.suppress(Exception):
                    pump()
    print(json.dumps(totals), file=out, flush=True)
    return 0 if totals["errors"] == 0 else 1


def _poll(args: argparse.Namespace) -> int:
    out = sys.stdout
    # Handlers in the embedded stack emit metrics on stdout; keep stdout for our JSON lines only.
    with contextlib.redirect_stdout(sys.stderr):
        return run_poll(args, out)


def register(sub: argparse._SubParsersAction) -> None:
    from socialcare.agents.connect import add_target_arguments

    p = sub.add_parser(
        "poll",
        help="poll a platform API (real connector) for N cycles into a stack: the one named, a running "
        "`local up`, else an embedded local stack",
    )
    add_target_arguments(p)
    p.add_argument("--platform", required=True, choices=PLATFORMS)
    p.add_argument("--base-url", required=True, help="API base URL (e.g. a loopback platform server)")
    p.add_argument("--query", default="", help="search query; r/NAME for a subreddit; a path or URL for rss")
    p.add_argument("--token", default=None, help="API token / app password / client secret (local use only)")
    p.add_argument(
        "--mode", default=None, help="platform mode (x: search|mentions, mastodon: notifications|search, ...)"
    )
    p.add_argument("--cycles", type=int, default=1)
    p.add_argument("--interval", type=float, default=0.0, help="seconds between cycles")
    p.add_argument("--budget", type=float, default=60.0, help="time budget of one poll, like a Lambda timeout")
    p.add_argument("--page-size", type=int, default=None)
    p.add_argument("--print", action="store_true", help="print each newly queued mention as a JSON line")
    p.add_argument(
        "--route",
        action="store_true",
        help="embedded stack only: route queued mentions between cycles (slow: a case workflow each)",
    )
    p.set_defaults(func=_poll)
    register_replay(sub)


def sample_post_mention(post: dict[str, Any]) -> Any:
    """A line of the demo's sample posts (layers/.../data/demo/mentions.jsonl: id, author_id, username,
    text, created_at, ...) as the X connector would normalise it from the X API."""
    from socialcare.ingest import x
    from socialcare.local.platform_server import x_post

    item, user = x_post(post)
    return x.mention_from_post(item, {user["id"]: user}, region=post.get("region"))


def _replay(args: argparse.Namespace) -> int:
    from socialcare.assembly import deps_from_args
    from socialcare.ingest.replay import replay
    from socialcare.ingest.sinks import DynamoSeenIndex, SqsMentionSink

    deps = deps_from_args(args)
    with open(args.file, encoding="utf-8", errors="replace") as handle:
        result = replay(
            handle,
            SqsMentionSink(deps.sqs, deps.settings.mentions_queue_url),
            seen=DynamoSeenIndex(deps.store.ddb, deps.settings.table_name),
            convert=sample_post_mention,
        )
    for number, reason in result.rejected:
        print(json.dumps({"line": number, "error": reason}))
    print(json.dumps({"queued": result.queued, "duplicates": result.duplicates, "rejected": len(result.rejected)}))
    return 1 if result.rejected else 0


def register_replay(sub: argparse._SubParsersAction) -> None:
    from socialcare.agents.connect import add_target_arguments

    parser = sub.add_parser("replay", help="queue mentions from a JSONL file into a stack's pipeline")
    parser.add_argument(
        "file", help="JSONL, one Mention per line (or the demo's sample posts, converted as the X connector does)"
    )
    add_target_arguments(parser)
    parser.set_defaults(func=_replay)
