"""Deployment sizes: the layer (runtime code + the pinned runtime dependencies, built by the same
Makefile target `sam build` runs) and each function's code, zipped and unzipped, in MB.
Lambda's limits: 50 MB zipped upload, 250 MB unzipped for function + layers."""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _zip_size(path: Path, arc_prefix: str = "") -> int:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in path.rglob("*"):
            if p.is_file() and "__pycache__" not in p.parts:
                zf.write(p, arc_prefix + str(p.relative_to(path)))
    return len(buf.getvalue())


def layer_sizes() -> dict[str, float]:
    """The layer as `sam build` makes it: the same Makefile target, into a temporary directory."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                "make",
                "--no-print-directory",
                "-C",
                str(ROOT / "layers" / "socialcare"),
                "build-SharedLayer",
                f"ARTIFACTS_DIR={tmp}",
                f"PYTHON={sys.executable}",
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
        target = Path(tmp) / "python"
        mb = 1024 * 1024
        return {
            "platform": "linux arm64 (the template's architecture)",  # type: ignore[dict-item]
            "socialcare runtime code (MB, unzipped)": round(_dir_size(target / "socialcare") / mb, 2),
            "layer unzipped (MB)": round(_dir_size(target) / mb, 2),
            "layer zipped (MB)": round(_zip_size(Path(tmp), "") / mb, 2),
            "Lambda limit, function + layers unzipped (MB)": 250.0,
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
