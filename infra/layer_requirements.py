"""The Lambda layer's requirements file, generated from pyproject.toml (the one source of truth).

`python infra/layer_requirements.py` resolves pyproject's runtime dependencies (pip's resolver, for
CPython 3.12 on Linux) and writes every package of the result, pinned, to
layers/socialcare/requirements.txt, leaving out what the Lambda python3.12 runtime already provides
(the SDK and its own dependencies). The layer's Makefile installs exactly that file with --no-deps, so
nothing is resolved at build time. `--check` (and a unit test) fails when the file no longer matches
pyproject; it reads only local files.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "layers" / "socialcare" / "requirements.txt"

# What the python3.12 runtime ships (boto3 and the packages boto3 itself depends on), at the version
# the artifact tests run against. AWS updates it with the runtime: see docs/deploy.md.
LAMBDA_RUNTIME_SDK = {"boto3": "1.40.4", "botocore": "1.40.4"}
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six"}

HEADER = (
    "# Generated from pyproject.toml by `python infra/layer_requirements.py`: do not edit.\n"
    "# Every package the layer installs (--no-deps), pinned; the Lambda runtime provides {provided}.\n"
    "# direct: {direct}\n"
)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def direct_dependencies() -> dict[str, str]:
    """pyproject's runtime dependencies as {name: 'name[extras]==version'}, runtime-provided ones dropped."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    out = {}
    for spec in deps:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*==\s*([^\s;]+)\s*", spec)
        if not m:
            raise SystemExit(f"pyproject.toml: runtime dependency {spec!r} is not pinned with ==")
        name = canonical(m.group(1))
        if name not in RUNTIME_PROVIDED:
            out[name] = f"{name}{m.group(2) or ''}=={m.group(3)}"
    return out


def parse(text: str) -> tuple[set[str], dict[str, str]]:
    """(direct specs named in the header, {name: version} of every pinned line)."""
    direct: set[str] = set()
    pins: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# direct:"):
            direct = {s for s in line.removeprefix("# direct:").split() if s}
        elif line.strip() and not line.startswith("#"):
            m = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line.strip())
            if not m:
                raise ValueError(f"requirements line {line!r} is not name==version")
            pins[canonical(m.group(1))] = m.group(2)
    return direct, pins


def problems(text: str) -> list[str]:
    """Why the requirements file does not match pyproject.toml (empty when it does)."""
    out = []
    direct, pins = parse(text)
    wanted = direct_dependencies()
    if direct != set(wanted.values()):
        out.append(f"pyproject's runtime dependencies {sorted(wanted.values())} != generated from {sorted(direct)}")
    for name, spec in wanted.items():
        version = spec.rsplit("==", 1)[1]
        if pins.get(name) != version:
            out.append(f"{name}: pyproject pins {version}, requirements.txt has {pins.get(name)}")
    for name in sorted(RUNTIME_PROVIDED & set(pins)):
        out.append(f"{name} is provided by the Lambda runtime and must not be in the layer")
    return out


def resolve(specs: list[str]) -> dict[str, str]:
    """pip's resolution of the specs for this interpreter (CPython 3.12 on Linux), nothing installed."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(  # noqa: S603 - this interpreter's own pip
            [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed",
             "--report", str(report), *specs],
            check=True,
        )
        data = json.loads(report.read_text(encoding="utf-8"))
    return {canonical(i["metadata"]["name"]): i["metadata"]["version"] for i in data["install"]}


def generate() -> str:
    wanted = direct_dependencies()
    pins = resolve([*wanted.values(), *(f"{k}=={v}" for k, v in LAMBDA_RUNTIME_SDK.items())])
    lines = [f"{name}=={version}" for name, version in sorted(pins.items()) if name not in RUNTIME_PROVIDED]
    header = HEADER.format(provided=", ".join(sorted(RUNTIME_PROVIDED)), direct=" ".join(sorted(wanted.values())))
    return header + "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if "--check" in argv:
        found = problems(REQUIREMENTS.read_text(encoding="utf-8")) if REQUIREMENTS.exists() else ["missing"]
        for p in found:
            print(f"{REQUIREMENTS.relative_to(ROOT)}: {p}", file=sys.stderr)
        if found:
            print("regenerate it: python infra/layer_requirements.py", file=sys.stderr)
        return 1 if found else 0
    REQUIREMENTS.write_text(generate(), encoding="utf-8")
    print(f"wrote {REQUIREMENTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
