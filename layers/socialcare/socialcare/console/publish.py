"""`socialcare console publish`: the console's files and its configuration into the deployed stack.

After `sam deploy`, the console bucket is empty. This uploads every file under console/ and a
config.json built from the stack's outputs (the Cognito user pool, its app client and sign-in domain,
the console API and the console's own address), then removes what an earlier publish left that is
no longer in console/. Every object is sent with `Cache-Control: no-cache`, so CloudFront revalidates
each file with the bucket and a new publish shows at the next load without an invalidation.

config.json holds no secret: a browser app client has none (authorization code with PKCE), and the
pool and client ids are what the sign-in page sends to Cognito anyway.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from socialcare.errors import Exit, UserError

# Stack output -> what config.json calls it (console/js/auth.js and api.js read these names).
CONFIG_OUTPUTS = {
    "ConsoleApiUrl": "api",
    "ConsoleUserPoolClientId": "clientId",
    "ConsoleSignInDomain": "signInDomain",
    "ConsoleUrl": "redirectUri",
    "ConsoleUserPoolId": "userPoolId",
}
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}


class PublishError(UserError):
    """The stack has no console to publish to, or the files are not there."""

    exit_code = Exit.NOT_FOUND


@dataclass(frozen=True)
class Published:
    bucket: str
    url: str
    files: int
    bytes: int
    removed: list[str]
    config: dict[str, str]


def console_config(outputs: dict[str, str], region: str) -> dict[str, str]:
    """config.json for a deployed console, from the stack's outputs."""
    missing = sorted(k for k in (*CONFIG_OUTPUTS, "ConsoleBucketName") if not outputs.get(k))
    if missing:
        raise PublishError(
            f"the stack has no web console outputs ({', '.join(missing)}): deploy template.yaml "
            "with its console block first"
        )
    config = {"mode": "cognito", "region": region}
    config.update(
        {
            name: outputs[output].rstrip("/") if name in ("api", "signInDomain") else outputs[output]
            for output, name in CONFIG_OUTPUTS.items()
        }
    )
    return config


def console_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(key, path) for every file the console serves; a local config.json never goes up (ours does)."""
    if not (root / "index.html").is_file():
        raise PublishError(f"no console files in {root} (expected index.html): run from the socialcare checkout")
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        if path.is_file() and key != "config.json" and not any(p.startswith(".") for p in key.split("/")):
            yield key, path


def content_type(key: str) -> str:
    suffix = Path(key).suffix.lower()
    return TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def publish(s3: Any, outputs: dict[str, str], region: str, root: Path, *, dry_run: bool = False) -> Published:
    config = console_config(outputs, region)
    bucket = outputs["ConsoleBucketName"]
    wanted: dict[str, bytes] = {key: path.read_bytes() for key, path in console_files(root)}
    wanted["config.json"] = (json.dumps(config, indent=2) + "\n").encode()
    existing: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        existing.extend(o["Key"] for o in page.get("Contents", []))
    stale = sorted(set(existing) - set(wanted))
    if not dry_run:
        # config.json last: a reader never gets a configuration that names files not uploaded yet.
        for key in sorted(wanted, key=lambda k: k == "config.json"):
            s3.put_object(
                Bucket=bucket, Key=key, Body=wanted[key], ContentType=content_type(key), CacheControl="no-cache"
            )
        for start in range(0, len(stale), 1000):
            s3.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[start : start + 1000]], "Quiet": True}
            )
    return Published(
        bucket=bucket,
        url=outputs["ConsoleUrl"],
        files=len(wanted),
        bytes=sum(len(b) for b in wanted.values()),
        removed=stale,
        config=config,
    )


def _publish(args: argparse.Namespace) -> int:
    from socialcare.agents.connect import describe, target_from_args
    from socialcare.settings import project_root

    target = target_from_args(args)
    session = target.session()
    outputs, _ = describe(target.client(session, "cloudformation"), target.stack_name, target.where)
    root = Path(args.source) if args.source else project_root() / "console"
    done = publish(target.client(session, "s3"), outputs, session.region_name, root, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(done.__dict__, indent=2))
        return Exit.OK
    verb = "would publish" if args.dry_run else "published"
    print(
        f"{verb} {done.files} files ({done.bytes:,} bytes) to s3://{done.bucket}/"
        f"{f', removing {len(done.removed)} stale' if done.removed else ''}"
    )
    print(f"console: {done.url} (sign-in: {done.config['signInDomain']}, user pool {done.config['userPoolId']})")
    return Exit.OK


def register(sub: Any) -> None:
    from socialcare.agents.connect import add_target_arguments
    from socialcare.console import backfill

    console = sub.add_parser("console", help="the web console of a deployed stack")
    commands = console.add_subparsers(dest="console_command", required=True)
    pub = commands.add_parser(
        "publish",
        help="upload console/ and a config.json from the stack's outputs to its console bucket",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    add_target_arguments(pub)
    pub.add_argument("--source", help="the console's files (default: console/ in the checkout)")
    pub.add_argument("--dry-run", action="store_true", help="say what would be uploaded and removed; change nothing")
    pub.add_argument("--json", action="store_true", help="print the result as JSON")
    pub.set_defaults(func=_publish)
    backfill.register(commands)
