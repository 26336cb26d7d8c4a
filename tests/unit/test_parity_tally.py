"""The parity tally's histogram medians stay within 5% of the exact median."""

from __future__ import annotations

import random
import statistics

from socialcare.cases import tally


def test_histogram_median_is_within_five_percent_of_the_exact_one():
    rng = random.Random(3)
    for _ in range(50):
        samples = [rng.expovariate(1 / rng.choice([30, 600, 20_000])) + 1 for _ in range(rng.randrange(1, 400))]
        hist: dict[int, int] = {}
        for s in samples:
            hist[tally.bucket(s)] = hist.get(tally.bucket(s), 0) + 1
        item = {"cases": len(samples), "met": len(samples), **{f"fr_{b}": n for b, n in hist.items()}}
        exact = statistics.median_low(samples)
        assert abs(tally.row(item)["first_response_p50_s"] - exact) <= 0.05 * (exact + 1) + 0.01


def test_an_empty_band_has_no_figures():
    assert tally.row(None) == {"cases": 0, "sla_met_pct": None, "first_response_p50_s": None, "resolution_p50_s": None}
