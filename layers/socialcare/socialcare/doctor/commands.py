"""socialcare doctor [--stack S]: one line per check, each with its verdict (OK, WARN, FAIL).
Exit codes (docs/cli.md): 0 nothing failed (warnings allowed), 1 a check failed, 4/5 the stack is not
found / cannot be reached."""

from __future__ import annotations

import argparse
import json

from socialcare.doctor.checks import FAIL, run
from socialcare.errors import Exit


def _cmd_doctor(args: argparse.Namespace) -> int:
    from socialcare.agents.connect import describe, settings_from_outputs, target_from_args
    from socialcare.config import load_config
    from socialcare.ingest.state import DynamoCursorStore

    target = target_from_args(args)
    session = target.session()

    def client(service: str):
        return target.client(session, service)

    sources, cursor_state = [], None
    outputs, parameters = describe(client("cloudformation"), target.stack_name)  # not found: exit 4 / 5
    settings = settings_from_outputs(target.stack_name, outputs, parameters)
    try:
        sources = list(load_config(settings.config_path).sources)
        cursor_state = DynamoCursorStore(client("dynamodb"), settings.table_name).load
    except (OSError, ValueError) as exc:
        print(f"WARN  {'configuration':<34}  cannot read the brand configuration: {exc}")
    checks = run(target.stack_name, client, sources, cursor_state)
    if args.json:
        print(json.dumps([c.__dict__ for c in checks]))
    else:
        for c in checks:
            print(c.line())
        failed = sum(c.verdict == FAIL for c in checks)
        warned = sum(c.verdict == "WARN" for c in checks)
        print(f"{len(checks)} checks: {failed} failed, {warned} warnings")
    return Exit.FAILED if any(c.verdict == FAIL for c in checks) else Exit.OK


def register(sub: argparse._SubParsersAction) -> None:
    from socialcare.agents.connect import add_target_arguments

    p = sub.add_parser("doctor", help="check a stack from the outside: one line per check with its verdict")
    add_target_arguments(p)
    p.add_argument("--json", action="store_true", help="print the checks as one JSON array")
    p.set_defaults(func=_cmd_doctor)
