"""`socialcare demo` (and the local stack commands)."""

from __future__ import annotations

import argparse


def _demo(args: argparse.Namespace) -> int:
    from socialcare.local.demo import run

    report = run(json_output=args.json)
    return 0 if report["lost_mentions"] == 0 else 1


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="run the whole pipeline end to end on the embedded local stack")
    demo.add_argument("--json", action="store_true", help="end with one JSON object of figures")
    demo.set_defaults(func=_demo)
