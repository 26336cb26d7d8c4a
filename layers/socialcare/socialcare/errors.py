"""What the `socialcare` command exits with, and the errors a user can fix themselves.

One table for every command (docs/cli.md shows it): a script can tell "you asked wrongly" from
"refused" from "not there" from "try again" without reading the message.
"""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    FAILED = 1  # the command ran and reports failures (rejected lines, a check found problems)
    REFUSED = 2  # the request does not fit the current state; nothing changed
    BUSY = 3  # try again (with the same request id)
    NOT_FOUND = 4  # no such case, incident, quiet period or stack
    UNAVAILABLE = 5  # the stack cannot be reached: no region, no credentials, endpoint down
    INVALID_CONFIG = 6  # the brand configuration does not parse or does not fit the template
    USAGE = 64  # the command line itself is wrong (unknown option, missing argument, bad value)
    INTERNAL = 70  # a fault of ours; --debug shows the traceback
    INTERRUPTED = 130


class UserError(Exception):
    """A mistake the person at the terminal can fix; the CLI prints it on one line."""

    exit_code: Exit = Exit.FAILED


class UsageError(UserError):
    """An option value that argparse cannot check by itself (e.g. a required combination)."""

    exit_code = Exit.USAGE


class UnavailableError(UserError):
    """The stack cannot be reached with the region, credentials and endpoint in use."""

    exit_code = Exit.UNAVAILABLE
