"""Deployment sizes: the layer (socialcare package + runtime dependencies, pip-installed for the
Lambda platform into a temporary directory) and each function's code, zipped and unzipped, in MB.
Lambda's limits: 50 MB zipped upload, 250 MB unzipped for function + layers."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLATFORM = [
    "--platform",
    "manylinux2014_aarch64",
    "--implementation",
    "cp",
    "--python-version",
    "3.12",
    "--only-binary=:all:",
]


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _zip_size(path: Path, arc_prefix: str = "") -> int:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in path.rglob("*"):
            if p.is_file() and "__pycache__" not in p.parts:
                zf.write(p, arc_prefix + str(p.relative_to(path)))
    return len(buf.getvalue())


def runtime_dependencies() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]


def layer_sizes() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "python"
        deps = runtime_dependencies()
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--target",
            str(target),
            *deps,
        ]
        try:
            subprocess.run([*cmd[:4], *PLATFORM, *cmd[4:]], check=True, capture_output=True, timeout=600)
            platform = "linux arm64"
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            subprocess.run(cmd, check=True, capture_output=True, timeout=600)
            platform = "this machine's platform"
        deps_unzipped = _dir_size(target)
        boto = sum(
            _dir_size(target / n) for n in ("boto3", "botocore", "s3transfer") if (target / n).exists()
        )
        pkg = ROOT / "layers" / "socialcare" / "socialcare"
        import shutil

        shutil.copytree(pkg, target / "socialcare", ignore=shutil.ignore_patterns("__pycache__"))
        mb = 1024 * 1024
        return {
            "platform": platform,  # type: ignore[dict-item]
            "socialcare package (MB, unzipped)": round(_dir_size(pkg) / mb, 2),
            "layer unzipped (MB)": round(_dir_size(target) / mb, 2),
            "layer zipped (MB)": round(_zip_size(Path(tmp), "") / mb, 2),
            "of which boto3+botocore+s3transfer, unzipped (MB)": round(boto / mb, 2),
            "runtime deps unzipped (MB)": round(deps_unzipped / mb, 2),
        }


def function_sizes() -> dict[str, float]:
    out = {}
    for fn in sorted((ROOT / "functions").iterdir()):
        if fn.is_dir():
            out[fn.name] = round(_zip_size(fn) / 1024, 1)
    return out


def run() -> None:
    layer = layer_sizes()
    print(f"layer (built for {layer.pop('platform')}):")
    for k, v in layer.items():
        print(f"  {k:52} {v:8.2f}")
    print("function code zipped (KB):")
    for k, v in function_sizes().items():
        print(f"  {k:52} {v:8.1f}")
    _ = os
