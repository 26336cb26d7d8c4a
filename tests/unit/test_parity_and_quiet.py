"""Parity report arithmetic, region containment and the crisis lexicon, without AWS."""

from __future__ import annotations

import inspect

from socialcare.cases import policy
from socialcare.config import ParitySettings, parse_config
from socialcare.models import Author, Mention, Scored, Tags
from socialcare.quiet.crisis import is_crisis_mention, tragedy_words
from socialcare.reports.parity import band_of, format_table, metric_data, parity


def _case(followers: int, breaches: int, first_s: float | None, platform: str = "x") -> dict:
    case = {
        "author": {"followers": followers},
        "platform": platform,
        "breaches": breaches,
        "opened_at": "2026-11-22T08:00:00+00:00",
    }
    if first_s is not None:
        case["first_responded_at"] = f"2026-11-22T08:00:{int(first_s):02d}+00:00"
    return case


def test_policy_never_reads_reach():
    assert "author" not in inspect.signature(policy.priority).parameters
    assert "author" not in inspect.signature(policy.sla_for).parameters
    assert "followers" not in inspect.getsource(policy).split('"""', 2)[2]


def test_parity_bands_medians_and_gap_alarm():
    cases = [_case(10, 0, 4), _case(50, 1, 8), _case(20_000_000, 0, 2), _case(20_000_000, 0, 6, "mastodon")]
    report = parity(cases, ParitySettings(min_cases_per_band=2, max_gap_pct=10))
    assert report["bands"]["0-100"] == {
        "cases": 2,
        "sla_met_pct": 50.0,
        "first_response_p50_s": 6.0,
        "resolution_p50_s": None,
    }
    assert report["bands"]["1M+"]["sla_met_pct"] == 100.0 and report["bands"]["100-10k"]["cases"] == 0
    assert report["gap_pct"] == 50.0 and report["alarm"] is True
    assert set(report["channels"]) == {"x", "mastodon"}
    names = {(m["MetricName"], m["Value"]) for m in metric_data(report)}
    assert ("ParityGapExceeded", 1.0) in names and ("ParityGapPct", 50.0) in names
    assert "ALARM" in format_table(report)
    assert band_of(None, [100]) == "0-100" and band_of(100, [100]) == "100+"


def test_regions_nest_and_do_not_leak():
    cfg = parse_config("""
brand: B
default_department: care
departments: [{name: care}]
sla: {first_response_s: 1, next_update_s: 1, resolution_s: 2}
regions:
  - {name: latam, includes: [MX, caribbean]}
  - {name: caribbean, includes: [puerto-alba]}
""")
    assert cfg.region_covers("latam", "puerto-alba") and cfg.region_covers("latam", "MX")
    assert not cfg.region_covers("caribbean", "MX") and not cfg.region_covers("latam", None)


def _tags(intent: str, sentiment: str = "negative") -> Tags:
    s = lambda v: Scored(value=v, confidence=0.9)  # noqa: E731
    return Tags(
        intent=s(intent),
        actionable=s("yes"),
        department=s("operations"),
        sentiment=s(sentiment),
        urgency=s("none"),
        language=s("en"),
    )


def test_crisis_lexicon_with_the_classifier():
    from datetime import UTC, datetime

    lexicon = ["hurricane", "huracán", "killed"]
    m = Mention(
        platform="x",
        id="1",
        author=Author(id="a", handle="a"),
        created_at=datetime.now(UTC),
        text="llegó el huracan a Puerto Alba",
        region="latam",
    )
    assert tragedy_words(m.text, lexicon) == {"huracán"}
    assert is_crisis_mention(m, _tags("question"), lexicon)
    praise = m.model_copy(update={"text": "the crew killed it today, best flight ever"})
    assert not is_crisis_mention(praise, _tags("praise", "positive"), lexicon)


def test_a_place_named_in_the_text_gives_the_region_when_the_platform_gives_none():
    from socialcare.quiet.crisis import place_in_text

    assert place_in_text("The hurricane just tore through Puerto Alba.", ["uk", "puerto-alba"]) == "puerto-alba"
    assert place_in_text("my flight to the uk was cancelled", ["uk", "puerto-alba"]) is None
