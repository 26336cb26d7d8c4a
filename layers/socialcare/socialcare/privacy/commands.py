"""`socialcare privacy export|erase --author PLATFORM:HANDLE`: one person's data, out or gone."""

from __future__ import annotations

import argparse
import getpass
import json
import sys


def _store(args: argparse.Namespace):  # noqa: ANN202 - the Store of the target stack
    from socialcare.assembly import deps_from_args

    return deps_from_args(args).store


def _export(args: argparse.Namespace) -> int:
    from socialcare.privacy import PrivacyError, export_author

    try:
        data = export_author(_store(args), args.author)
    except PrivacyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(
            f"wrote {len(data['mentions'])} mentions, {len(data['cases'])} cases, "
            f"{len(data['messages'])} messages to {args.out}"
        )
    else:
        print(text)
    return 0


def _erase(args: argparse.Namespace) -> int:
    from socialcare.privacy import PrivacyError, erase_author

    try:
        report = erase_author(
            _store(args),
            args.author,
            requested_by=args.requested_by or getpass.getuser(),
            dry_run=args.dry_run,
        )
    except PrivacyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        verb = "would erase" if args.dry_run else "erased"
        print(
            f"{verb}: {report.mentions} mentions, {report.cases} cases, {report.messages} messages, "
            f"{report.published} published replies, {report.drafts} drafts"
            + (f", {report.held} held messages" if report.held else "")
            + f"; recorded as {report.record_key or '-'} ({report.author})"
        )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from socialcare.agents.connect import add_target_arguments

    privacy = sub.add_parser("privacy", help="export or erase one person's data")
    psub = privacy.add_subparsers(dest="privacy_command", required=True)
    for name, helptext, func in (
        ("export", "everything held about one author, as JSON", _export),
        ("erase", "remove or pseudonymise one author's data everywhere, and record it", _erase),
    ):
        p = psub.add_parser(name, help=helptext)
        p.add_argument("--author", required=True, help="PLATFORM:HANDLE, e.g. x:jane_doe")
        add_target_arguments(p)
        if name == "export":
            p.add_argument("--out", default=None, help="write to this file instead of stdout")
        else:
            p.add_argument("--dry-run", action="store_true", help="count what would be erased; change nothing")
            p.add_argument("--requested-by", default=None, help="who asked (kept in the erasure record)")
            p.add_argument("--json", action="store_true")
        p.set_defaults(func=func)
