"""`socialcare agent ...`: a department works its queue from the terminal.

Every command finds its stack the usual way (--profile/--region, AWS_ENDPOINT_URL, or a running
`socialcare local up`) and resource names from the stack's outputs (--stack, default "socialcare").
Errors end as one line and an exit code from socialcare.errors.Exit (docs/cli.md): 2 refused (the
case's state does not allow it; nothing changed), 3 retry later, 4 not found, 5 stack unreachable.
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from typing import Any

from pydantic import BaseModel


def _client(args: argparse.Namespace) -> Any:
    from socialcare.agents.sdk import AgentClient
    from socialcare.assembly import deps_from_args

    name = getattr(args, "as_name", None) or os.environ.get("SOCIALCARE_AGENT") or os.environ.get("USER") or "agent"
    return AgentClient(
        deps_from_args(args), name, department=args.dept or os.environ.get("SOCIALCARE_DEPARTMENT") or None
    )


def _out(args: argparse.Namespace, value: Any, text: str) -> None:
    if args.json:
        data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
        print(json.dumps(data, indent=2, default=str))
    else:
        print(text)


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return number


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    sign, s = ("-" if seconds < 0 else ""), abs(int(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{sign}{h}h{m:02d}m" if h else f"{sign}{m}m{sec:02d}s"


def _queue(args: argparse.Namespace) -> int:
    client = _client(args)
    view = client.work_queue(args.department, limit=args.limit)
    total = client.open_count(args.department) if len(view.cases) >= args.limit else len(view.cases)
    total = max(total, len(view.cases))
    shown = f"showing {len(view.cases)} of {total}" if total > len(view.cases) else f"{total} open case(s)"
    lines = [f"{view.department}: {shown}, {view.waiting_notices} new work-item notice(s) queued"]
    if not view.cases:
        lines.append("  no open cases")
    for c in view.cases:
        lines.append(
            f"  {c.case_id}  p{c.priority}  {c.status:<16} {c.clock or '-':<14} left {_duration(c.seconds_left):>8}"
            f"  {c.owner or '(unclaimed)':<12} {c.summary[:70]}"
        )
    _out(args, view.model_dump(mode="json") | {"open_cases": total}, "\n".join(lines))
    return 0


def _show(args: argparse.Namespace) -> int:
    client = _client(args)
    v = client.show(args.case)
    history = client.history(args.case)
    reach = f"{v.author.followers} followers" if v.author.followers is not None else "reach unknown"
    lines = [
        f"{v.case_id}  [{v.status}]  department {v.department}  owner {v.owner or '(unclaimed)'}  "
        f"priority p{v.priority}",
        f"customer @{v.author.handle} on {v.author.platform} ({reach}{', verified' if v.author.verified else ''}; "
        "information only - reach never changes priority)",
        "tags: " + ", ".join(f"{k}={t['value']}" for k, t in v.tags.items() if isinstance(t, dict)),
        "clocks:",
        *[f"  {c.name:<15} {c.state:<9} left {_duration(c.seconds_left):>8}" for c in v.clocks],
        "conversation:",
        *[
            f"  {m.at[:19]} {'<<' if m.direction == 'in' else '>>'} [{m.channel}] {m.author or ''}: {m.text}"
            + (f"  ({m.delivery})" if m.delivery else "")
            for m in v.conversation
        ],
    ]
    if v.departments_history and len(v.departments_history) > 1:
        lines.append("departments: " + " -> ".join(v.departments_history))
    lines.append(
        "earlier cases: "
        + (", ".join(f"{c.case_id} ({c.platform}, {c.department}, {c.status})" for c in v.earlier_cases) or "none")
    )
    lines.append("history:")
    lines += [f"  {h.at[:19]} {h.actor:<12} {h.action:<16} {h.note or ''}".rstrip() for h in history]
    if v.suggestions:
        lines.append("suggested replies (never sent automatically):")
        lines += [f"  [{s.id}] {s.answer}" for s in v.suggestions]
    _out(args, v.model_dump(mode="json") | {"history": [h.model_dump() for h in history]}, "\n".join(lines))
    return 0


def _dispatch(client: Any, args: argparse.Namespace, rid: str) -> Any:
    match args.action:
        case "claim":
            return client.claim(args.case, force=args.force, request_id=rid)
        case "reply":
            return client.reply(args.case, args.text, request_id=rid)
        case "handoff":
            return client.handoff(args.case, args.to, args.text, request_id=rid)
        case "transfer":
            return client.transfer(args.case, args.to, args.note, request_id=rid)
        case "wait_customer":
            return client.wait_customer(args.case, request_id=rid)
        case "resolve":
            return client.resolve(args.case, args.note, request_id=rid)
        case "label":
            return client.label(args.case, args.actionable, request_id=rid)
        case "reopen":
            return client.reopen(args.case, args.reason, request_id=rid)
        case "restart":
            return client.restart(args.case)
    raise AssertionError(f"unhandled action {args.action!r}")  # argparse only offers the actions above


def _act(args: argparse.Namespace) -> int:
    from socialcare.agents.views import ActionOutcome
    from socialcare.cases.actions import BusyError

    client = _client(args)
    # Named here when not given, so a busy answer can say which request to retry.
    rid = args.request_id or uuid.uuid4().hex
    try:
        result = _dispatch(client, args, rid)
    except BusyError as exc:
        raise type(exc)(f"{exc} (--request-id {rid})") from exc
    outcome = ActionOutcome(
        case_id=result.case_id,
        action=result.action,
        status=result.status,
        replayed=result.replayed,
        detail=result.detail,
    )
    text = f"{result.case_id}: {result.action} done by {client.name} -> {result.status}"
    if result.replayed:
        text += " (already done by this request; nothing changed)"
    for d in result.detail.get("deliveries", []):
        text += f"\n  {d['channel']}: {'published' if d['mode'] == 'published' else d['mode'].upper()} - {d['reason']}"
    _out(args, outcome, text)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from socialcare.agents.connect import add_target_arguments

    agent = sub.add_parser("agent", help="work a department's queue: claim, reply, transfer, hand off, resolve")
    common = argparse.ArgumentParser(add_help=False)
    add_target_arguments(common)
    common.add_argument("--dept", default=None, help="act as this department (refuses cases in other queues)")
    common.add_argument("--json", action="store_true", help="print JSON")
    acting = argparse.ArgumentParser(add_help=False, parents=[common])
    acting.add_argument("--as", dest="as_name", default=None, help="your name (default $SOCIALCARE_AGENT or $USER)")
    acting.add_argument("--request-id", default=None, help="idempotency key: the same id twice has one effect")
    cmds = agent.add_subparsers(dest="agent_command", required=True)

    p = cmds.add_parser("queue", parents=[common], help="open cases by SLA due time and queued work items")
    p.add_argument("department")
    p.add_argument("--limit", type=_positive, default=50)
    p.set_defaults(func=_queue)
    p = cmds.add_parser("show", parents=[common], help="conversation, tags, clocks, owner, earlier cases, suggestions")
    p.add_argument("case")
    p.set_defaults(func=_show)

    def action(name: str, help_: str, action_name: str | None = None) -> argparse.ArgumentParser:
        p = cmds.add_parser(name, parents=[acting], help=help_)
        p.add_argument("case")
        p.set_defaults(func=_act, action=action_name or name)
        return p

    action("claim", "own the case").add_argument("--force", action="store_true", help="take it over from its owner")
    action("reply", "answer publicly (published or drafted)").add_argument("text")
    p = action("handoff", "move to a private channel with the case reference and your name")
    p.add_argument("--to", choices=["dm", "email"], required=True)
    p.add_argument(
        "--text",
        default="Hi, it's about your case. Could you send us the details here?",
        help="the private message (the public note with the case reference is written for you)",
    )
    p = action("transfer", "move the case, with its history, to another department")
    p.add_argument("--to", required=True)
    p.add_argument("--note", required=True)
    action("wait-customer", "pause the next-update clock until the customer writes", "wait_customer")
    action("resolve", "close the case").add_argument("--note", required=True)
    p = action("label", "say whether the post needed the brand (kept as a label `train --from-cases` learns from)")
    verdict = p.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--actionable", dest="actionable", action="store_true", help="actionable after all")
    verdict.add_argument("--not-actionable", dest="actionable", action="store_false", help="nothing to act on")
    action("reopen", "reopen a resolved case").add_argument("--reason", default="reopened by an agent")
    action("restart", "start a fresh workflow for a case whose workflow failed (flagged on the case)")
