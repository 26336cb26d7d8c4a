"""`socialcare poll` against a loopback platform server, in the embedded local mode."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from socialcare.ingest import commands
from socialcare.local.platform_server import PlatformServer, sample_posts

TOKEN = "poll-token"  # noqa: S105 - loopback only
QUERIES = {
    "x": "@SkylarkAir",
    "mastodon": "",
    "bluesky": "skylark air",
    "reddit": "r/flights",
    "rss": "/feed.xml",
}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="socialcare")
    commands.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_query_lands_in_the_field_each_platform_needs() -> None:
    # Given the same command line for each platform
    built = {
        p: commands.local_source(p, "http://127.0.0.1:9", q, secret="secretsmanager:s")  # noqa: S106 - a reference
        for p, q in QUERIES.items()
    }
    # Then each SourceConfig is the platform's natural mode
    assert built["x"].resolved_mode == "search" and built["x"].query == "@SkylarkAir"
    assert built["mastodon"].resolved_mode == "notifications"
    assert built["reddit"].resolved_mode == "subreddit" and built["reddit"].subreddit == "flights"
    assert built["reddit"].auth_base == "http://127.0.0.1:9"
    assert built["rss"].feed_url == "http://127.0.0.1:9/feed.xml"
    assert json.loads(commands._secret_value("bluesky", TOKEN)) == {
        "identifier": commands.LOCAL_IDENTIFIER,
        "app_password": TOKEN,
    }


@pytest.mark.slow
@pytest.mark.parametrize("platform", sorted(QUERIES))
def test_poll_command_prints_each_post_once_across_cycles(platform: str) -> None:
    # Given a platform server with posts, and more arriving before the second cycle
    posts = sample_posts(60, start=datetime.now(UTC) - timedelta(hours=1))
    with PlatformServer(posts, token=TOKEN) as server:
        args = parse(
            [
                "poll",
                "--platform",
                platform,
                "--base-url",
                server.base_url,
                "--query",
                QUERIES[platform],
                "--token",
                TOKEN,
                "--cycles",
                "3",
                "--interval",
                "0",
                "--print",
            ]
        )
        out = io.StringIO()
        server.add_posts(sample_posts(5, start_id=1_900_000_000_000_009_000, start=datetime.now(UTC)))
        # When the command runs three cycles
        code = commands.run_poll(args, out)
    # Then each post is printed once with the required fields, and the last line has the totals
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    totals, printed = lines[-1], lines[:-1]
    expected = min(65, PlatformServer.FEED_WINDOW) if platform == "rss" else 65
    assert code == 0 and totals["queued"] == len(printed) == expected
    assert set(totals) == {"queued", "duplicates", "rate_limited", "errors"} and totals["errors"] == 0
    assert len({p["id"] for p in printed}) == len(printed)
    assert {"platform", "id", "author", "text", "created_at"} <= set(printed[0]) and printed[0]["platform"] == platform
