"""The `socialcare` command. Each capability registers its own sub-commands.

Every user mistake ends as one line on stderr and an exit code from `socialcare.errors.Exit`
(docs/cli.md has the table); a traceback appears only with --debug.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import traceback
from collections.abc import Iterator
from typing import Any, NoReturn

from socialcare.errors import Exit, UserError

# Modules that define `register(subparsers)`; each adds its own sub-commands.
COMMAND_MODULES = [
    "socialcare.incidents.commands",
    "socialcare.quiet.commands",
    "socialcare.reports.commands",
    "socialcare.local.commands",
    "socialcare.classify.commands",
    "socialcare.agents.training",  # extends `train` (above) with --from-cases
    "socialcare.ingest.commands",
    "socialcare.agents.commands",
    "socialcare.dlq",
    "socialcare.privacy.commands",
    "socialcare.config_check",
    "socialcare.doctor.commands",
    "socialcare.console.publish",
]


class Parser(argparse.ArgumentParser):
    """argparse with its own exit code for usage errors (argparse's 2 is our "refused")."""

    def error(self, message: str) -> NoReturn:
        self.exit(Exit.USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="socialcare", description="Serverless social customer care router.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and INFO logs (on stderr)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _classify(exc: BaseException) -> tuple[Exit, str] | None:
    """The exit code and one-line message for an error a user can act on; None for our own faults."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
    )
    from pydantic import ValidationError

    from socialcare.cases.actions import ActionError, BusyError
    from socialcare.cases.workflow import WorkflowError
    from socialcare.incidents.service import IncidentError
    from socialcare.ingest.errors import ConfigurationError
    from socialcare.privacy.service import PrivacyError
    from socialcare.quiet.service import QuietError
    from socialcare.store import NotFoundError, StoreBusyError

    match exc:
        case UserError():
            return exc.exit_code, str(exc)
        case NotFoundError():
            return Exit.NOT_FOUND, str(exc)
        case WorkflowError():
            return Exit.BUSY, f"{exc}; the action is recorded on the case - retry with the same --request-id"
        case BusyError() | StoreBusyError():
            return Exit.BUSY, f"busy: {exc}"
        case ActionError() | QuietError() | IncidentError():
            return Exit.REFUSED, f"refused: {exc} (nothing changed)"
        case PrivacyError():
            return Exit.USAGE, str(exc)
        case ConfigurationError():
            return Exit.INVALID_CONFIG, str(exc)
        case NoRegionError():
            return Exit.UNAVAILABLE, "no AWS region: give --region, set AWS_REGION, or start `socialcare local up`"
        case NoCredentialsError() | PartialCredentialsError() | ProfileNotFound():
            return Exit.UNAVAILABLE, f"no usable AWS credentials: {exc}"
        case EndpointConnectionError():
            return Exit.UNAVAILABLE, f"cannot reach {exc.kwargs.get('endpoint_url', 'the endpoint')}"
        case BotoCoreError():
            return Exit.UNAVAILABLE, f"cannot reach AWS: {exc}"
        case ClientError():
            error = exc.response.get("Error", {})
            return Exit.UNAVAILABLE, f"AWS refused: {error.get('Code', '?')}: {error.get('Message', '')}"
        case FileNotFoundError() | IsADirectoryError():
            return Exit.NOT_FOUND, f"no such file: {exc.filename}"
        case PermissionError():
            return Exit.UNAVAILABLE, f"cannot read {exc.filename}: permission denied"
        case ValidationError():
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "input"
            return Exit.USAGE, f"invalid {where}: {first['msg']}"
    return None


class _Stderr:
    """Whatever sys.stderr is at the moment of writing (tests and callers swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


@contextlib.contextmanager
def _logs_to_stderr(debug: bool) -> Iterator[None]:
    """Logs belong on stderr, and at a terminal only warnings unless --debug: stdout carries the answer
    (JSON with --json). The level is restored afterwards, for callers that run main() in-process."""
    import os

    from socialcare.observability import logger, route_logs

    level = logger.log_level
    route_logs(_Stderr())
    if not debug and not os.environ.get("POWERTOOLS_LOG_LEVEL"):
        logger.setLevel("WARNING")
    try:
        yield
    finally:
        logger.setLevel(level)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # --debug anywhere on the line, not only before the sub-command.
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser()
    args: Any = parser.parse_args(argv)
    try:
        with _logs_to_stderr(debug):
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return Exit.INTERRUPTED
    except BrokenPipeError:
        return Exit.OK
    except Exception as exc:
        if debug:
            traceback.print_exc()
        known = _classify(exc)
        if known is None:
            print(
                f"internal error: {type(exc).__name__}: {exc} (run again with --debug for the traceback)",
                file=sys.stderr,
            )
            return Exit.INTERNAL
        code, message = known
        print("socialcare: " + " ".join(message.split("\n")), file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
