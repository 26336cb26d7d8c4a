"""`make bench`: every benchmark section in one run, each printing its own table."""

from __future__ import annotations

import importlib
import sys
import time

SECTIONS = [
    "bench.parity",
    "bench.actions",
    "bench.incidents",
    "bench.classifier",
    "bench.cascade",
    "bench.learning",
    "bench.burst",
    "bench.cold_start",
    "bench.sizes",
    "bench.pipeline",
    "bench.cost",
    "bench.console",
]


def main() -> int:
    for name in SECTIONS:
        started = time.perf_counter()
        print(f"\n=== {name} ===", flush=True)
        importlib.import_module(name).run()
        print(f"({name} took {time.perf_counter() - started:.1f}s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
