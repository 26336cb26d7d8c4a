"""Incident clustering: normalisation, MinHash/LSH, the detector's decisions, quality and cost."""

from __future__ import annotations

from pathlib import Path

import pytest
from socialcare.config import IncidentSettings, load_config
from socialcare.incidents.detector import Detector
from socialcare.incidents.evaluate import load, score
from socialcare.incidents.index import Member, MemoryIndex
from socialcare.incidents.text import band_keys, cosine, minhash, words
from socialcare.outbound.port import RateLimiter

LABELLED = Path(__file__).resolve().parents[2] / "data" / "incidents" / "labelled.jsonl"
BRAND = Path(__file__).resolve().parents[3] / "layers/socialcare/socialcare/data/brand.yaml"


def _member(
    i: int, text: str, dept: str = "airport", at: float = 1000.0, settings: IncidentSettings | None = None
) -> Member:
    s = settings or IncidentSettings()
    return Member(
        key=f"case#C{i}",
        kind="case",
        department=dept,
        words=words(text, s.ignore_words, s.synonyms),
        at=at + i,
        customer_key=f"x#u{i}",
        platform="x",
        case_id=f"C{i}",
    )


def test_normalised_words_drop_handles_urls_stop_words_and_stem():
    assert words("@SkylarkAir My bags were DELAYED again!! https://t.co/x") == {"bag", "delay"}
    assert words("logging in keeps failing", synonyms={"fail": "broken", "logging": "log"}) >= {"log", "broken"}


def test_minhash_is_deterministic_and_similar_sets_share_bands():
    a = words("the baggage belt at terminal five stopped and no suitcases arrive")
    b = words("baggage belt at terminal five stopped, still no suitcases")
    c = words("the wifi portal charged me twice for nothing")
    sig_a, sig_b, sig_c = minhash(a, 32), minhash(b, 32), minhash(c, 32)
    assert sig_a == minhash(a, 32)  # the same in every process: no built-in hash()
    shared_ab = len(set(band_keys(sig_a, 2)) & set(band_keys(sig_b, 2)))
    shared_ac = len(set(band_keys(sig_a, 2)) & set(band_keys(sig_c, 2)))
    assert shared_ab > shared_ac == 0
    assert cosine(a, b) > 0.6 > cosine(a, c)


def test_an_incident_opens_at_min_size_and_later_matches_join_it():
    s = IncidentSettings(min_size=3, threshold=0.35, min_shared_words=2)
    det = Detector(MemoryIndex(s.bucket_cap), s)
    texts = [
        "belt 7 at heathrow terminal 5 stopped, no bags coming out",
        "heathrow terminal 5 belt 7 stopped, still no bags",
        "no bags at belt 7 heathrow terminal 5, belt stopped",
    ]
    first, second = det.observe(_member(1, texts[0])), det.observe(_member(2, texts[1]))
    assert not first.changed and not second.changed  # two similar reports are not yet an incident
    third = det.observe(_member(3, texts[2]))
    assert {m.case_id for m in third.open_with} == {"C1", "C2", "C3"}
    for m in third.open_with:
        det.index.set_incident([m.key], "INC-1")
    fourth = det.observe(_member(4, "belt 7 at heathrow terminal 5 has stopped, where are the bags"))
    assert fourth.link_to == "INC-1"


def test_other_departments_old_cases_and_unrelated_text_never_match():
    s = IncidentSettings(min_size=2, window_s=3600)
    det = Detector(MemoryIndex(s.bucket_cap), s)
    det.observe(_member(1, "belt 7 at heathrow terminal 5 stopped, no bags coming out", dept="baggage"))
    other_dept = det.observe(_member(2, "belt 7 at heathrow terminal 5 stopped, no bags coming out", dept="airport"))
    assert other_dept.matches == []
    too_late = det.observe(
        _member(3, "belt 7 at heathrow terminal 5 stopped, no bags coming out", dept="baggage", at=1000.0 + 7200)
    )
    assert too_late.matches == []
    unrelated = det.observe(_member(4, "the wifi portal on board charged me twice", dept="baggage", at=8200.0))
    assert unrelated.matches == []


def test_cost_per_new_case_does_not_grow_with_open_cases():
    s = IncidentSettings()
    costs = []
    for n in (100, 1000):
        index = MemoryIndex(s.bucket_cap)
        det = Detector(index, s)
        for i in range(n):
            det.observe(_member(i, f"my bag number {i} went missing at terminal {i % 7} on route {i % 13}", at=0.0))
        before = index.cost.counts["items_read"]
        det.observe(_member(n + 1, "my bag went missing at terminal 3 on route 5", at=0.0))
        costs.append(index.cost.counts["items_read"] - before)
    assert costs[1] <= costs[0] + s.max_candidates and costs[1] <= 16 + s.max_candidates


def test_labelled_set_precision_is_at_least_0_9():
    rows = load(LABELLED)
    assert len(rows) >= 500 and sum(1 for r in rows if r["cluster"] is None) >= 200
    quality = score(rows, load_config(str(BRAND)).incidents)
    assert quality.precision >= 0.9
    assert quality.recall >= 0.6


def test_rate_limiter_spaces_messages_per_platform():
    clock = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        clock[0] += s

    limiter = RateLimiter({"x": 2.0}, 1.0, clock=lambda: clock[0], sleep=sleep)
    for _ in range(5):
        limiter.acquire("x")
    limiter.acquire("mastodon")
    assert clock[0] == pytest.approx(2.0)  # five messages at 2/s take two seconds
    assert len(slept) == 4


def test_benchmark_runs_and_stays_flat_in_requests():
    from bench.incidents import measure

    small, large = measure(300, IncidentSettings()), measure(3000, IncidentSettings())
    assert large["requests_per_case"] <= small["requests_per_case"] + 0.5
    assert large["items_read_per_case"] < 100 < large["rescan_items_per_case"]
