"""`socialcare report parity`: SLA met % and medians per follower band and per channel."""

from __future__ import annotations

import argparse
import json


def _parity(args: argparse.Namespace) -> int:
    from socialcare.assembly import deps_from_args
    from socialcare.cases import tally
    from socialcare.reports.parity import format_table, parity_from_tally

    deps = deps_from_args(args)
    report = parity_from_tally(tally.read(deps.store), deps.config.parity)
    print(json.dumps(report, sort_keys=True) if args.json else format_table(report))
    return 2 if report["alarm"] and args.fail_on_gap else 0


def register(sub: argparse._SubParsersAction) -> None:
    from socialcare.agents.connect import add_target_arguments

    p = sub.add_parser("report", help="reports over the case history")
    s = p.add_subparsers(dest="report_command", required=True)
    c = s.add_parser("parity", help="the same service for everyone: SLA per follower band and channel")
    add_target_arguments(c)
    c.add_argument("--json", action="store_true")
    c.add_argument("--fail-on-gap", action="store_true", help="exit 2 when the band gap exceeds the limit")
    c.set_defaults(func=_parity)
