"""What `sam build` produced (.aws-sam/build), run the way Lambda runs it. `make test-artifact` builds first.

The stand-in for the Lambda python3.12 runtime is a separate virtual environment holding only the
boto3/botocore version that runtime provides (infra/layer_requirements.py names it)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / ".aws-sam" / "build"
WORK = ROOT / ".aws-sam" / "artifact-test"


def layer_tool():
    spec = importlib.util.spec_from_file_location("layer_requirements", ROOT / "infra" / "layer_requirements.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pip(python: Path, *args: str) -> None:
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args], check=True, timeout=600
    )


@pytest.fixture(scope="session")
def build_dir() -> Path:
    if not (BUILD / "template.yaml").exists():
        pytest.fail("no sam build output in .aws-sam/build: run `make test-artifact` (it builds first)")
    return BUILD


@pytest.fixture(scope="session")
def runtime_python(build_dir: Path) -> Path:
    """A fresh Python 3.12 with only the Lambda runtime's SDK (reused while its pins do not change)."""
    sdk = layer_tool().LAMBDA_RUNTIME_SDK
    venv = WORK / "lambda-runtime"
    python = venv / "bin" / "python"
    stamp = venv / "sdk.txt"
    wanted = " ".join(f"{k}=={v}" for k, v in sorted(sdk.items()))
    if not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        _pip(python, *wanted.split())
        stamp.write_text(wanted)
    version = subprocess.run(
        [str(python), "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert version == "(3, 12)", f"the Lambda runtime is Python 3.12, this stand-in is {version}"
    return python


def native_packages(layer: Path) -> dict[str, str]:
    """{name: version} of the layer's packages with compiled parts (their wheel is not pure Python)."""
    out = {}
    for wheel in layer.glob("*.dist-info/WHEEL"):
        if "Root-Is-Purelib: false" in wheel.read_text(encoding="utf-8"):
            meta = (wheel.parent / "METADATA").read_text(encoding="utf-8")
            fields = dict(line.split(": ", 1) for line in meta.splitlines()[:3] if ": " in line)
            out[fields["Name"]] = fields["Version"]
    return out


@pytest.fixture(scope="session")
def native_overlay(build_dir: Path, runtime_python: Path) -> Path:
    """This machine's builds of the layer's compiled packages, same names and versions."""
    overlay = WORK / "native-overlay"
    natives = native_packages(build_dir / "SharedLayer" / "python")
    wanted = " ".join(f"{k}=={v}" for k, v in sorted(natives.items()))
    stamp = WORK / "native-overlay.txt"
    if not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run(["rm", "-rf", str(overlay)], check=True)
        _pip(runtime_python, "--no-deps", "--only-binary=:all:", "--target", str(overlay), *wanted.split())
        stamp.write_text(wanted)
    return overlay


@pytest.fixture(scope="session")
def artifacts(build_dir: Path, runtime_python: Path, native_overlay: Path):
    from socialcare.local.artifact import Artifacts

    return Artifacts(build_dir=build_dir, python=runtime_python, native_overlay=native_overlay, log_dir=WORK / "logs")
