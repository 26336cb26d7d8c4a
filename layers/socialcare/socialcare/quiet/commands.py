"""`socialcare quiet ...` (quiet periods, held messages) and `socialcare posts ...` (scheduled posts)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta


def _quiet(args: argparse.Namespace):  # noqa: ANN202
    from socialcare.assembly import deps_from_args
    from socialcare.quiet.service import Quiet

    return Quiet(deps_from_args(args))


def parse_time(value: str, now: datetime | None = None) -> datetime:
    """An ISO time, or a duration from now: 30m, 6h, 2d. argparse turns the ValueError into a usage error."""
    now = now or datetime.now(UTC)
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if value[-1:] in units and value[:-1].isdigit():
        return now + timedelta(**{units[value[-1]]: int(value[:-1])})
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is neither an ISO time (2026-12-01T18:00Z) nor a duration (30m, 6h, 2d)"
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _start(args: argparse.Namespace) -> int:
    p = _quiet(args).start(args.region, args.until, args.reason, actor=args.operator)
    print(f"quiet period {p.id} for {p.region} until {p.until.isoformat()}")
    return 0


def _end(args: argparse.Namespace) -> int:
    q = _quiet(args)
    p = q.end(args.quiet_id, actor=args.operator)
    held = q.held(p.id)
    print(
        f"quiet period {p.id} ended; {len(held)} held item(s): release or cancel them "
        f"(socialcare quiet release|cancel --quiet {p.id})"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    q = _quiet(args)
    periods = q.list(active_only=args.active)
    if not periods:
        print("no active quiet periods" if args.active else "no quiet periods")
    for p in periods:
        state = "ended" if p.ended_at else ("active" if p.active(datetime.now(UTC)) else "expired")
        print(f"{p.id}  {state:<7} {p.region:<10} until {p.until.isoformat()}  held {len(q.held(p.id))}  {p.reason}")
    return 0


def _held(args: argparse.Namespace) -> int:
    q = _quiet(args)
    if args.quiet:
        q.get(args.quiet)  # a mistyped id is "not found", not an empty list
    held = q.held(args.quiet)
    if not held:
        print(f"nothing held{' by ' + args.quiet if args.quiet else ''}")
    for h in held:
        ident = h.get("id") or h.get("idempotency_key")
        print(f"{h['type']:<8}{ident}  {h.get('kind', '')}  {h.get('region', '')}  {h.get('text', '')[:70]}")
    return 0


def _settle(args: argparse.Namespace) -> int:
    q = _quiet(args)
    ids = args.ids or None
    fn = q.release if args.quiet_command == "release" else q.cancel
    n = fn(ids, quiet_id=args.quiet, actor=args.operator)
    print(f"{args.quiet_command}d {n} held item(s)")
    return 0


def _schedule(args: argparse.Namespace) -> int:
    p = _quiet(args).schedule(args.at, args.text, region=args.region, kind=args.kind, platform=args.platform)
    print(f"scheduled {p.id} ({p.kind}) for {p.at.isoformat()} to {p.region or 'everyone'}")
    return 0


def _posts(args: argparse.Namespace) -> int:
    posts = _quiet(args).posts(args.status)
    if not posts:
        print(f"no {args.status + ' ' if args.status else ''}scheduled posts")
    for p in posts:
        print(f"{p.id}  {p.status:<9} {p.kind:<11} {p.at.isoformat()}  {p.region or '-':<8} {p.text[:60]}")
    return 0


def _publish(args: argparse.Namespace) -> int:
    print(json.dumps(_quiet(args).publish_due()))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from socialcare.agents.connect import add_target_arguments

    def command(parent: argparse._SubParsersAction, name: str, **kw: str) -> argparse.ArgumentParser:
        # --region here is the area a quiet period or post is aimed at; the AWS region is --aws-region.
        c = parent.add_parser(name, **kw)
        add_target_arguments(c, region_flag=False)
        return c

    p = sub.add_parser("quiet", help="quiet periods: hold promotional posts and automatic messages to a region")
    s = p.add_subparsers(dest="quiet_command", required=True)
    c = command(s, "start")
    c.add_argument("--region", required=True, help="the area it covers: a region of the brand's `regions:`")
    c.add_argument("--until", required=True, type=parse_time, help="ISO time or a duration (6h, 2d)")
    c.add_argument("--reason", required=True)
    c.add_argument("--operator", default="ops")
    c.set_defaults(func=_start)
    c = command(s, "end")
    c.add_argument("quiet_id")
    c.add_argument("--operator", default="ops")
    c.set_defaults(func=_end)
    c = command(s, "list")
    c.add_argument("--active", action="store_true")
    c.set_defaults(func=_list)
    c = command(s, "held", help="posts and messages a quiet period is holding")
    c.add_argument("--quiet")
    c.set_defaults(func=_held)
    for name in ("release", "cancel"):
        c = command(s, name, help=f"{name} held items (all of a quiet period, or the named ones)")
        c.add_argument("ids", nargs="*")
        c.add_argument("--quiet")
        c.add_argument("--operator", default="ops")
        c.set_defaults(func=_settle)

    p = sub.add_parser("posts", help="scheduled brand posts")
    s = p.add_subparsers(dest="posts_command", required=True)
    c = command(s, "schedule")
    c.add_argument("--at", required=True, type=parse_time, help="ISO time or a duration (30m, 6h, 2d)")
    c.add_argument("--text", required=True)
    c.add_argument("--region", help="the area the post is aimed at (quiet periods there hold it)")
    c.add_argument("--kind", choices=["promotional", "service"], default="promotional")
    c.add_argument("--platform", default="x")
    c.set_defaults(func=_schedule)
    c = command(s, "list")
    c.add_argument("--status")
    c.set_defaults(func=_posts)
    c = command(s, "publish", help="publish due posts now (what the scheduled function does)")
    c.set_defaults(func=_publish)
