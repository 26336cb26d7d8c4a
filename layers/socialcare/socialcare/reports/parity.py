"""The parity report: SLA met %, median first response and median resolution per follower band and
per channel. Reach is shown to agents as information; this report proves it buys nothing."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime
from typing import Any

from socialcare.cases import tally
from socialcare.cases.tally import band_labels, band_of
from socialcare.config import ParitySettings

__all__ = ["band_labels", "band_of", "parity", "parity_from_tally", "publish", "format_table", "metric_data"]


def _seconds(case: dict[str, Any], field: str) -> float | None:
    if not case.get(field):
        return None
    return (datetime.fromisoformat(case[field]) - datetime.fromisoformat(case["opened_at"])).total_seconds()


def _row(cases: list[dict[str, Any]]) -> dict[str, Any]:
    firsts = [s for c in cases if (s := _seconds(c, "first_responded_at")) is not None]
    resolved = [s for c in cases if (s := _seconds(c, "resolved_at")) is not None]
    met = sum(1 for c in cases if int(c.get("breaches", 0)) == 0)
    return {
        "cases": len(cases),
        "sla_met_pct": round(100.0 * met / len(cases), 1) if cases else None,
        "first_response_p50_s": round(statistics.median(firsts), 2) if firsts else None,
        "resolution_p50_s": round(statistics.median(resolved), 2) if resolved else None,
    }


def parity(cases: list[dict[str, Any]], settings: ParitySettings) -> dict[str, Any]:
    """`cases` are stored case items (dicts). Bands with too few cases do not count toward the gap."""
    by_band: dict[str, list[dict[str, Any]]] = {label: [] for label in band_labels(settings.bands)}
    by_channel: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for case in cases:
        by_band[band_of((case.get("author") or {}).get("followers"), settings.bands)].append(case)
        by_channel[case.get("platform", "?")].append(case)
    bands = {label: _row(rows) for label, rows in by_band.items()}
    return _report(bands, {name: _row(rows) for name, rows in sorted(by_channel.items())}, settings)


def parity_from_tally(items: list[dict[str, Any]], settings: ParitySettings) -> dict[str, Any]:
    """The same report from the tally items kept as cases close (socialcare.cases.tally): resolved
    cases only, medians from 10% histogram buckets, and a cost that does not grow with the table."""
    by_sk = {i["SK"]: i for i in items}
    bands = {label: tally.row(by_sk.get(f"BAND#{label}")) for label in band_labels(settings.bands)}
    channels = {
        sk.removeprefix("CHANNEL#"): tally.row(i) for sk, i in sorted(by_sk.items()) if sk.startswith("CHANNEL#")
    }
    return _report(bands, channels, settings)


def _report(
    bands: dict[str, dict[str, Any]], channels: dict[str, dict[str, Any]], settings: ParitySettings
) -> dict[str, Any]:
    """Bands with too few cases do not count toward the gap."""
    counted = [r["sla_met_pct"] for r in bands.values() if r["cases"] >= settings.min_cases_per_band]
    gap = round(max(counted) - min(counted), 1) if len(counted) >= 2 else 0.0
    return {
        "bands": bands,
        "channels": channels,
        "gap_pct": gap,
        "max_gap_pct": settings.max_gap_pct,
        "alarm": gap > settings.max_gap_pct,
    }


def metric_data(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The same numbers as CloudWatch metrics (namespace SocialCare), for the ops dashboard and alarm."""
    data: list[dict[str, Any]] = [
        {
            "MetricName": "ParityGapPct",
            "Dimensions": [{"Name": "service", "Value": "socialcare"}],
            "Value": float(report["gap_pct"]),
            "Unit": "Percent",
        },
        # 1 when the gap exceeds the brand's configured limit: the alarm's threshold lives in config.
        {
            "MetricName": "ParityGapExceeded",
            "Dimensions": [{"Name": "service", "Value": "socialcare"}],
            "Value": 1.0 if report["alarm"] else 0.0,
            "Unit": "Count",
        },
    ]
    for dim, rows in (("Band", report["bands"]), ("Channel", report["channels"])):
        for name, row in rows.items():
            dims = [{"Name": dim, "Value": name}]
            data.append(
                {"MetricName": "ParityCases", "Dimensions": dims, "Value": float(row["cases"]), "Unit": "Count"}
            )
            for metric, field, unit in (
                ("ParitySlaMetPct", "sla_met_pct", "Percent"),
                ("ParityFirstResponseP50Seconds", "first_response_p50_s", "Seconds"),
                ("ParityResolutionP50Seconds", "resolution_p50_s", "Seconds"),
            ):
                if row[field] is not None:
                    data.append({"MetricName": metric, "Dimensions": dims, "Value": float(row[field]), "Unit": unit})
    return data


def publish(cloudwatch: Any, report: dict[str, Any], namespace: str = "SocialCare") -> int:
    data = metric_data(report)
    for start in range(0, len(data), 20):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start : start + 20])
    return len(data)


def format_table(report: dict[str, Any]) -> str:
    lines = [f"{'':<16}{'cases':>7}{'SLA met':>9}{'1st resp p50':>14}{'resolution p50':>16}"]

    def fmt(v: float | None, suffix: str) -> str:
        return "-" if v is None else f"{v:.1f}{suffix}"

    for title, rows in (("follower band", report["bands"]), ("channel", report["channels"])):
        lines.append(title)
        for name, r in rows.items():
            lines.append(
                f"  {name:<14}{r['cases']:>7}{fmt(r['sla_met_pct'], '%'):>9}"
                f"{fmt(r['first_response_p50_s'], 's'):>14}{fmt(r['resolution_p50_s'], 's'):>16}"
            )
    flag = "ALARM" if report["alarm"] else "ok"
    lines.append(
        f"largest SLA gap between bands: {report['gap_pct']:.1f} points (limit {report['max_gap_pct']:.1f}) {flag}"
    )
    return "\n".join(lines)
