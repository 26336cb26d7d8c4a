"""How incident clustering cost per new case grows with the number of open cases (1,000 to 100,000).

The index is the in-memory twin of the DynamoDB index: it counts the requests and items the DynamoDB
adapter makes for the same calls (BatchGetItem of the band buckets, BatchGetItem of the best
candidates' signatures, one TransactWriteItems). The baseline is what a rescan would cost: every open
case of the department read and compared, per new case.

    .venv/bin/python -m bench.incidents            # or: make bench
"""

from __future__ import annotations

import random
import time
from collections import Counter

from socialcare.config import IncidentSettings
from socialcare.incidents.detector import Detector
from socialcare.incidents.index import Member, MemoryIndex
from socialcare.incidents.text import band_keys, cosine, minhash

SIZES = (1_000, 10_000, 100_000)
PROBES = 200


def _vocabulary(rng: random.Random, n: int = 4000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(4, 9))) for _ in range(n)]


def _member(i: int, rng: random.Random, vocab: list[str], at: float) -> Member:
    # Zipf-like word choice: a few common words ("app", "bag") and a long tail, 6-12 words a case.
    chosen = {vocab[min(len(vocab) - 1, int(rng.paretovariate(1.1)) - 1)] for _ in range(rng.randint(6, 12))}
    return Member(
        key=f"case#B{i}",
        kind="case",
        department="airport",
        words=frozenset(chosen),
        at=at,
        customer_key=f"x#u{i}",
        platform="x",
        case_id=f"B{i}",
    )


def measure(open_cases: int, settings: IncidentSettings, seed: int = 6) -> dict[str, float]:
    rng = random.Random(seed)
    vocab = _vocabulary(rng)
    index = MemoryIndex(settings.bucket_cap)
    detector = Detector(index, settings)
    t0 = 1_800_000_000.0
    population = [_member(i, rng, vocab, t0 + i * (settings.window_s / 2) / open_cases) for i in range(open_cases)]
    # The open cases are already indexed (as the router left them): bands written, no lookups needed.
    for m in population:
        index.add(m, band_keys(minhash(m.words, settings.num_perm), settings.band_rows), {}, settings.window_s)
    before = Counter(index.cost.counts)
    now = t0 + settings.window_s / 2
    probes = [_member(open_cases + i, rng, vocab, now + i) for i in range(PROBES)]
    started = time.perf_counter()
    for m in probes:
        detector.observe(m)
    elapsed = time.perf_counter() - started
    used = index.cost.counts - before
    # The rescan baseline: compare with every open case of the department.
    started = time.perf_counter()
    for m in probes[:20]:
        for other in population:
            cosine(m.words, other.words)
    rescan_us = (time.perf_counter() - started) / 20 * 1e6
    return {
        "open_cases": open_cases,
        "requests_per_case": used["requests"] / PROBES,
        "items_read_per_case": used["items_read"] / PROBES,
        "items_written_per_case": used["items_written"] / PROBES,
        "us_per_case": elapsed / PROBES * 1e6,
        "rescan_items_per_case": open_cases,
        "rescan_us_per_case": rescan_us,
    }


def run(sizes: tuple[int, ...] = SIZES) -> list[dict[str, float]]:
    settings = IncidentSettings()
    rows = [measure(n, settings) for n in sizes]
    print(
        f"{'open cases':>11}{'requests':>10}{'items read':>12}{'written':>9}{'us/case':>10}"
        f"{'rescan items':>14}{'rescan us':>11}"
    )
    for r in rows:
        print(
            f"{r['open_cases']:>11,}{r['requests_per_case']:>10.2f}{r['items_read_per_case']:>12.1f}"
            f"{r['items_written_per_case']:>9.1f}{r['us_per_case']:>10.0f}{r['rescan_items_per_case']:>14,}"
            f"{r['rescan_us_per_case']:>11.0f}"
        )
    return rows


if __name__ == "__main__":
    run()
