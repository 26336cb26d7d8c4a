"""`socialcare incident ...`: list, show, merge, split and resolve incidents; `evaluate` scores the
clustering on a labelled set."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _service(args: argparse.Namespace):  # noqa: ANN202
    from socialcare.assembly import deps_from_args
    from socialcare.incidents.service import Incidents

    return Incidents(deps_from_args(args))


def _list(args: argparse.Namespace) -> int:
    incidents = _service(args).list(args.department, include_closed=args.all)
    if not incidents:
        where = f" in {args.department}" if args.department else ""
        print(f"no incidents{where}" if args.all else f"no open incidents{where} (--all for closed ones too)")
    for inc in incidents:
        print(
            f"{inc.id}  {inc.status:<8} {inc.department:<14} cases {inc.cases:>4}  customers {inc.customers:>4}  "
            f"channels {json.dumps(inc.channels)}  {inc.title[:60]}"
        )
    return 0


def _show(args: argparse.Namespace) -> int:
    service = _service(args)
    inc = service.get(args.incident_id)
    print(
        json.dumps(
            {
                **inc.model_dump(mode="json"),
                "members": [m.to_data() | {"words": None} for m in service.members(inc.id)],
                "updates": service.updates(inc.id),
            },
            indent=2,
            default=str,
        )
    )
    return 0


def _merge(args: argparse.Namespace) -> int:
    inc = _service(args).merge(args.source, args.into, actor=args.agent)
    print(f"merged {args.source} into {inc.id}: {inc.members} members, {inc.customers} customers")
    return 0


def _split(args: argparse.Namespace) -> int:
    inc = _service(args).split(args.incident_id, args.members, actor=args.agent)
    print(f"split {len(args.members)} members of {args.incident_id} into {inc.id}")
    return 0


def _link(args: argparse.Namespace) -> int:
    n = _service(args).link_cases(args.incident_id, args.cases, actor=args.agent)
    print(f"linked {n} case(s) to {args.incident_id}")
    return 0


def _resolve(args: argparse.Namespace) -> int:
    result = _service(args).resolve(args.incident_id, args.text, actor=args.agent, resolve_cases=not args.keep_cases)
    print(json.dumps(result))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from socialcare.config import load_config
    from socialcare.incidents.evaluate import load, score
    from socialcare.settings import get_settings

    settings = load_config(args.config or get_settings().config_path).incidents
    if args.threshold is not None:
        settings = settings.model_copy(update={"threshold": args.threshold})
    q = score(load(Path(args.labelled)), settings)
    print(
        json.dumps(
            {
                "cases": q.cases,
                "clusters": q.clusters,
                "incidents": q.incidents,
                "true_pairs": q.true_pairs,
                "predicted_pairs": q.predicted_pairs,
                "precision": round(q.precision, 3),
                "recall": round(q.recall, 3),
                "index_requests_per_case": q.requests_per_case,
            }
        )
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from socialcare.agents.connect import add_target_arguments

    def command(name: str, **kw: str) -> argparse.ArgumentParser:
        c = s.add_parser(name, **kw)
        add_target_arguments(c)
        return c

    p = sub.add_parser("incident", help="incidents: many customers, one problem")
    s = p.add_subparsers(dest="incident_command", required=True)
    c = command("list", help="open incidents (--all for every incident)")
    c.add_argument("--department")
    c.add_argument("--all", action="store_true")
    c.set_defaults(func=_list)
    c = command("show")
    c.add_argument("incident_id")
    c.set_defaults(func=_show)
    c = command("merge", help="move every member of SOURCE into INTO")
    c.add_argument("source")
    c.add_argument("into")
    c.add_argument("--agent", required=True)
    c.set_defaults(func=_merge)
    c = command("split", help="move the named cases (or member keys) into a new incident")
    c.add_argument("incident_id")
    c.add_argument("members", nargs="+")
    c.add_argument("--agent", required=True)
    c.set_defaults(func=_split)
    c = command("link", help="link cases the detector missed")
    c.add_argument("incident_id")
    c.add_argument("cases", nargs="+")
    c.add_argument("--agent", required=True)
    c.set_defaults(func=_link)
    c = command("resolve", help="send one update to every linked customer and resolve their cases")
    c.add_argument("incident_id")
    c.add_argument("--text", required=True)
    c.add_argument("--agent", required=True)
    c.add_argument("--keep-cases", action="store_true", help="send the update but leave the cases open")
    c.set_defaults(func=_resolve)
    c = s.add_parser("evaluate", help="pairwise precision/recall on a labelled set")
    c.add_argument("--labelled", default="tests/data/incidents/labelled.jsonl")
    c.add_argument("--config")
    c.add_argument("--threshold", type=float)
    c.set_defaults(func=_evaluate)
