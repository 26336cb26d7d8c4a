"""`socialcare train --from-cases`: learn routing from a stack's case history and promote it if better.

Adds --from-cases and the usual stack options to the `train` command (classify.commands owns the
file-based training); the stack is found as every agent command finds it (agents.connect).
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any


def register(subparsers: Any) -> None:
    from socialcare.agents.connect import add_target_arguments

    p = subparsers.choices["train"]
    group = p.add_argument_group("learning from a stack's cases")
    group.add_argument(
        "--from-cases",
        action="store_true",
        help="train the brand's routing from its agents' transfers and resolutions, evaluate it "
        "against the model in use on held-out cases, promote it only if it is better",
    )
    group.add_argument("--dry-run", action="store_true", help="with --from-cases: evaluate, never promote")
    group.add_argument("--json", action="store_true", help="with --from-cases: print the result as JSON")
    add_target_arguments(p)
    file_based = p.get_default("func")

    def run(args: argparse.Namespace) -> int:
        if args.from_cases:
            return _from_cases(args)
        return file_based(args)

    p.set_defaults(func=run)


def _from_cases(args: argparse.Namespace) -> int:
    from socialcare.agents.connect import deps_from_args
    from socialcare.cases.learning import retrain
    from socialcare.errors import Exit, UsageError

    if args.data or args.out:
        raise UsageError("--from-cases reads the stack's cases: leave out --data and --out")
    deps = deps_from_args(args)
    actor = os.environ.get("SOCIALCARE_AGENT") or os.environ.get("USER") or "socialcare-train"
    result = retrain(deps.store, deps.config, actor=actor, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
        return int(Exit.OK)
    c = result.counts
    cur, cand = result.current, result.candidate
    print(
        f"cases: {c['cases']}; department labels: {c['department_labels']} ({c['from_transfers']} transfers, "
        f"{c['from_resolutions']} resolutions), actionable labels: {c['actionable_labels']}; "
        f"erased people left out: {c['erased_excluded']}"
    )
    print(
        f"held out: {cur.n} cases; in use ({result.current_version or 'routing from the configuration'}): "
        f"accuracy {cur.accuracy:.3f}, macro-F1 {cur.macro_f1:.3f}; candidate {result.version} "
        f"(blend weight {result.blend_weight}): accuracy {cand.accuracy:.3f}, macro-F1 {cand.macro_f1:.3f}"
    )
    verdict = "promoted" if result.promoted else "not promoted"
    print(f"{verdict}: {result.reason}")
    return int(Exit.OK)
