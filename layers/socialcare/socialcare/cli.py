"""The `socialcare` command. Each capability registers its own sub-commands."""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules that define `register(subparsers)`; each adds its own sub-commands.
COMMAND_MODULES = [
    "socialcare.incidents.commands",
    "socialcare.quiet.commands",
    "socialcare.reports.commands",
    "socialcare.local.commands",
    "socialcare.classify.commands",
    "socialcare.ingest.commands",
    "socialcare.agents.commands",
    "socialcare.dlq",
    "socialcare.privacy.commands",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="socialcare", description="Serverless social customer care router.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
