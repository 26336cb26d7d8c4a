"""Cold start: import time of each Lambda handler next to a minimal Powertools + pydantic handler,
each in a fresh interpreter, several runs alternating with the reference's, median. Target: every handler <= 1.3x the reference."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_COLD_RUNS", "7"))
TARGET = 1.3

REFERENCE = """
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel
logger = Logger(service="ref"); tracer = Tracer(service="ref"); metrics = Metrics(namespace="Ref", service="ref")
class Request(BaseModel):
    id: str
@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict, context: LambdaContext) -> dict:
    return Request.model_validate(event).model_dump()
"""

TIMER = """
import sys, time, importlib.util
t0 = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(time.perf_counter() - t0)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        POWERTOOLS_TRACE_DISABLED="true",
        AWS_DEFAULT_REGION="us-east-1",
        POWERTOOLS_SERVICE_NAME="bench",
        PYTHONDONTWRITEBYTECODE="0",
    )
    return env


def _once(path: Path) -> float:
    out = subprocess.run(
        [sys.executable, "-c", TIMER, str(path)],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=str(path.parent),
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def measure(path: Path, runs: int = RUNS) -> float:
    return statistics.median(_once(path) for _ in range(runs))


def paired(path: Path, reference: Path, runs: int = RUNS) -> tuple[float, float, float]:
    """Handler and reference run alternately, so a change in machine load between them (other work on a
    shared machine) moves both: the handler's median, the reference's median, and the median of the
    per-pair ratios."""
    mine, theirs = [], []
    for _ in range(runs):
        mine.append(_once(path))
        theirs.append(_once(reference))
    ratios = [a / b for a, b in zip(mine, theirs, strict=True)]
    return statistics.median(mine), statistics.median(theirs), statistics.median(ratios)


def handlers() -> list[Path]:
    return sorted((ROOT / "functions").glob("*/handler.py"))


def results(runs: int = RUNS) -> dict[str, tuple[float, float, float]]:
    """Per handler: its median import time, the reference's median over the same pairs, the median ratio."""
    import tempfile

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        ref = Path(tmp) / "handler.py"
        ref.write_text(REFERENCE, encoding="utf-8")
        _once(ref)  # warm the OS file cache and .pyc files, as a provisioned runtime would be
        for path in handlers():
            _once(path)
            out[path.parent.name] = paired(path, ref, runs)
    return out


def run() -> None:
    res = results()
    print(
        f"import time, median of {RUNS} fresh interpreters per handler, each run beside one of the reference "
        f"(python {sys.version.split()[0]})"
    )
    print(f"{'handler':24} {'ms':>8} {'reference ms':>13} {'x ref':>7}  target <= {TARGET}x")
    for name, (seconds, reference, ratio) in res.items():
        flag = "" if ratio <= TARGET else "  OVER"
        print(f"{name:24} {seconds * 1000:8.1f} {reference * 1000:13.1f} {ratio:7.2f}{flag}")
