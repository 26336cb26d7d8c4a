"""The demo's part for incidents, parity and quiet periods (called from socialcare.local.demo).

Setup schedules brand posts; after the waves an operator acts on the crisis suggestion (a person
starts the quiet period, the system only proposed it), the scheduled publisher runs and holds the
promotional post aimed at the region, and the outage incident is resolved with one update."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

UPDATE = (
    "Update from Skylark Air: the app and online check-in outage this morning is fixed. Check-in, "
    "boarding passes and log-in work again. We're sorry for the stress it caused."
)


def setup(deps: Any) -> None:
    from socialcare.quiet.service import Quiet

    quiet = Quiet(deps)
    soon = deps.now() + timedelta(seconds=5)
    quiet.schedule(
        soon,
        "Sun, sand and 20% off: fly Skylark Air to Puerto Alba this winter!",
        region="latam",
        kind="promotional",
        post_id="P-DEMO-PROMO-LATAM",
    )
    quiet.schedule(
        soon, "Winter fares to Boston are live.", region="us-east", kind="promotional", post_id="P-DEMO-PROMO-USEAST"
    )
    quiet.schedule(
        soon,
        "Travel advisory: flights to Puerto Alba are suspended until the airport reopens.",
        region="latam",
        kind="service",
        post_id="P-DEMO-SERVICE-LATAM",
    )


def after_waves(deps: Any, stack: Any, posts: list[dict[str, Any]]) -> dict[str, Any]:
    from socialcare.incidents.service import Incidents
    from socialcare.quiet.service import Quiet

    done: dict[str, Any] = {}
    suggestion = next(
        (
            s
            for r in ("latam", "puerto-alba")
            if (s := deps.store.get({"PK": {"S": f"CRISIS#{r}"}, "SK": {"S": "SUGGESTED"}}))
        ),
        None,
    )
    done["quiet_suggested"] = bool(suggestion)
    # The on-call operator reads the suggestion and confirms it: a person starts the quiet period.
    Quiet(deps).start(
        "latam",
        deps.now() + timedelta(hours=12),
        "Hurricane in Puerto Alba" + (" (crisis suggestion confirmed)" if suggestion else ""),
        actor="ops (demo)",
    )
    done["published"] = stack.invoke("PublishPostsFunction", {})
    incidents = Incidents(deps)
    open_ = sorted(incidents.list(), key=lambda i: i.members, reverse=True)
    if open_:
        target = open_[0]
        done["detected_members"] = target.members
        # The airport agent reads the open airport cases about the app and links the ones the
        # detector missed (the simulation knows them from the sample data's cluster label).
        missed = []
        for post in posts:
            if post.get("cluster") != "app-outage":
                continue
            stored = deps.store.get_mention(f"x#{post['id']}") or {}
            case_id = stored.get("case_id")
            if case_id and deps.store.get_case(case_id).incident_id is None:
                missed.append(case_id)
        done["linked_by_agent"] = incidents.link_cases(target.id, missed, actor="Kofi (airport)") if missed else 0
        done["resolved"] = incidents.resolve(target.id, UPDATE, actor="Kofi (airport)")
    return done


def report(deps: Any) -> dict[str, Any]:
    from socialcare.incidents.service import Incidents
    from socialcare.quiet.service import Quiet
    from socialcare.reports.parity import parity

    incidents = Incidents(deps).list(include_closed=True)
    rows = [
        {
            "id": i.id,
            "department": i.department,
            "status": i.status,
            "cases": i.cases,
            "members": i.members,
            "customers": i.customers,
            "channels": i.channels,
            "updates_sent": i.updates_sent,
        }
        for i in sorted(incidents, key=lambda i: -i.members)
    ]
    held = [p for p in Quiet(deps).posts() if p.quiet_id]
    par = parity(deps.store.scan_prefix("CASE#", "CASE"), deps.config.parity)
    return {
        "incidents": rows,
        "incident_updates_sent": sum(i.updates_sent for i in incidents),
        "quiet_held_posts": len(held),
        "parity": {band: {"cases": r["cases"], "sla_met_pct": r["sla_met_pct"]} for band, r in par["bands"].items()},
        "parity_gap_pct": par["gap_pct"],
    }
