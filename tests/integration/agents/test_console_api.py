"""The console's API function as API Gateway invokes it after its Cognito JWT authorizer: a person's
groups decide what they see and do; two people on one case get a conflict, not an overwrite."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest

from tests.integration.agents.test_agent_api import api_event
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration


def as_person(
    stack: Any, name: str, groups: list[str], method: str, path: str, body: dict | None = None, query: str = ""
) -> tuple[int, Any]:
    """The event API Gateway's JWT authorizer passes on: claims, with cognito:groups as "[a b]"."""
    event = api_event(method, path, body)
    event["rawQueryString"] = query
    event["queryStringParameters"] = dict(parse_qsl(query)) or None
    event["requestContext"]["authorizer"] = {
        "jwt": {"claims": {"cognito:username": name, "cognito:groups": "[" + " ".join(groups) + "]"}, "scopes": None}
    }
    if method == "POST" and path.startswith("/cases/SC-"):
        from socialcare.assembly import build_deps

        store = build_deps().store
        wait_for(lambda: (c := store.get_case(path.split("/")[2])).token_fresh or not c.is_open)
    response = stack.invoke("ConsoleApiFunction", event)
    return response["statusCode"], json.loads(response["body"]) if response.get("body") else None


def test_a_person_sees_and_acts_only_in_their_departments(stack, deps, open_case, x_api):
    # Given a baggage case
    case_id = open_case("My bag is lost and the baggage desk is closed")
    assert deps.store.get_case(case_id).department == "baggage"
    # When someone from reservations asks for it, its queue or acts on it
    for method, path, body in [
        ("GET", f"/cases/{case_id}", None),
        ("GET", "/departments/baggage/queue", None),
        ("POST", f"/cases/{case_id}/claim", {"agent": "ana"}),
        ("POST", f"/cases/{case_id}/claim", {"agent": "ana", "department": "baggage"}),
    ]:
        status, body_out = as_person(stack, "ana", ["reservations"], method, path, body)
        # Then the server refuses, and nothing changed
        assert status == 403, (path, body_out)
    case = deps.store.get_case(case_id)
    assert case.owner is None
    # And nobody acts under another person's name
    status, out = as_person(stack, "maria", ["baggage"], "POST", f"/cases/{case_id}/claim", {"agent": "priya"})
    assert status == 403 and "signed in as maria" in out["message"]
    # While the baggage agent sees it in her queue and claims it as herself
    status, queue = as_person(stack, "maria", ["baggage"], "GET", "/departments/baggage/queue", query="limit=1000")
    assert status == 200 and [c["case_id"] for c in queue["cases"]] == [case_id]
    assert queue["cases"][0]["summary"].startswith("My bag is lost")
    status, out = as_person(stack, "maria", ["baggage"], "POST", f"/cases/{case_id}/claim", {"agent": "maria"})
    assert status == 200 and out["status"] == "claimed"
    status, me = as_person(stack, "maria", ["baggage"], "GET", "/me")
    assert status == 200 and me["departments"] == ["baggage"] and me["ops"] is False


def test_two_people_acting_on_one_case_get_a_conflict_not_an_overwrite(stack, deps, open_case, x_api):
    # Given two baggage agents who both opened the case
    case_id = open_case("My suitcase never arrived on the carousel")
    _, seen = as_person(stack, "maria", ["baggage"], "GET", f"/cases/{case_id}")
    _, seen_too = as_person(stack, "priya", ["baggage"], "GET", f"/cases/{case_id}")
    assert seen["state_tag"] == seen_too["state_tag"]
    # When priya claims it first
    status, _ = as_person(
        stack,
        "priya",
        ["baggage"],
        "POST",
        f"/cases/{case_id}/claim",
        {"agent": "priya", "if_state": seen_too["state_tag"], "request_id": "p-1"},
    )
    assert status == 200
    # Then maria, acting on what she saw, is told the case changed, and nothing of hers is applied
    status, out = as_person(
        stack,
        "maria",
        ["baggage"],
        "POST",
        f"/cases/{case_id}/claim",
        {"agent": "maria", "if_state": seen["state_tag"], "force": True},
    )
    assert status == 409 and "changed since you read it" in out["message"] and "owner priya" in out["message"]
    assert deps.store.get_case(case_id).owner == "priya"
    # And priya's retry of her own request is a replay, not a conflict
    status, out = as_person(
        stack,
        "priya",
        ["baggage"],
        "POST",
        f"/cases/{case_id}/claim",
        {"agent": "priya", "if_state": seen_too["state_tag"], "request_id": "p-1"},
    )
    assert status == 200 and out["replayed"] is True
    # And the history shows who did what
    _, shown = as_person(stack, "priya", ["baggage"], "GET", f"/cases/{case_id}")
    assert [(e["type"], e["actor"]) for e in shown["history"] if e["type"] == "case.claimed"] == [
        ("case.claimed", "priya")
    ]


def test_ops_routes_need_the_ops_group_and_the_overview_matches_the_parity_report(stack, deps, open_case, x_api):
    from socialcare.cases import tally
    from socialcare.reports.parity import parity_from_tally

    open_case("My bag is lost, please help")
    # Given an agent outside ops: quiet periods, held posts and the overview are refused
    for method, path, body in [
        ("GET", "/quiet-periods", None),
        ("GET", "/held", None),
        ("GET", "/ops/overview", None),
        (
            "POST",
            "/quiet-periods",
            {"region": "uk", "until": "2100-01-01T00:00:00Z", "reason": "x", "operator": "maria"},
        ),
    ]:
        status, _ = as_person(stack, "maria", ["baggage"], method, path, body)
        assert status == 403, path
    # When an ops person asks for the overview
    status, overview = as_person(stack, "olu", ["ops"], "GET", "/ops/overview")
    # Then its parity is the report's, over the same records, and the department row counts the case
    assert status == 200
    assert overview["parity"] == json.loads(json.dumps(parity_from_tally(tally.read(deps.store), deps.config.parity)))
    baggage = next(d for d in overview["departments"] if d["department"] == "baggage")
    assert baggage["open"] == 1 and baggage["oldest_case"]
    assert set(overview["dead_letters"]) == {"mentions", "ingest", "department"}
    # And an ops person starts a quiet period under their own name only
    status, out = as_person(
        stack,
        "olu",
        ["ops"],
        "POST",
        "/quiet-periods",
        {"region": "uk", "until": "2100-01-01T00:00:00Z", "reason": "storm", "operator": "maria"},
    )
    assert status == 403
    status, out = as_person(
        stack,
        "olu",
        ["ops"],
        "POST",
        "/quiet-periods",
        {"region": "uk", "until": "2100-01-01T00:00:00Z", "reason": "storm", "operator": "olu"},
    )
    assert status == 200 and out["started_by"] == "olu"


def test_queue_filters_are_applied_by_the_server_on_the_index(stack, deps, open_case, x_api):
    # Given two baggage cases, one claimed by maria
    first = open_case("My bag is lost and the baggage desk is closed")
    second = open_case("My suitcase never arrived on the carousel")
    status, _ = as_person(stack, "maria", ["baggage"], "POST", f"/cases/{first}/claim", {"agent": "maria"})
    assert status == 200

    def ids(query: str) -> tuple[list[str], bool]:
        status, view = as_person(stack, "maria", ["baggage"], "GET", "/departments/baggage/queue", query=query)
        assert status == 200, view
        return [c["case_id"] for c in view["cases"]], view["more"]

    # Then each filter narrows the whole queue, and "more" says when the limit cut it
    assert ids("owner=maria") == ([first], False)
    assert ids("unclaimed=true") == ([second], False)
    assert ids("status=claimed") == ([first], False)
    _, view = as_person(stack, "maria", ["baggage"], "GET", "/departments/baggage/queue")
    language = view["cases"][0]["language"]
    assert sorted(ids(f"language={language}&channel=x")[0]) == sorted([first, second])
    assert ids("language=xx") == ([], False)
    assert ids("channel=facebook") == ([], False)
    assert ids("breached=true") == ([], False)
    assert ids("incident=true") == ([], False)
    assert len(ids("limit=1")[0]) == 1 and ids("limit=1")[1] is True
    status, _ = as_person(stack, "maria", ["baggage"], "GET", "/departments/baggage/queue", query="status=resolved")
    assert status == 422
    # And pages follow one another: the first page's `next` starts the second, which is the last
    _, page1 = as_person(stack, "maria", ["baggage"], "GET", "/departments/baggage/queue", query="limit=1")
    _, page2 = as_person(
        stack, "maria", ["baggage"], "GET", "/departments/baggage/queue", query=f"limit=1&after={page1['next']}"
    )
    assert page1["more"] and not page2["more"] and page2["next"] is None
    assert sorted(c["case_id"] for c in page1["cases"] + page2["cases"]) == sorted([first, second])
    assert [c["case_id"] for c in view["cases"]] == [c["case_id"] for c in page1["cases"] + page2["cases"]]
    # With a filter too; and a position the queue never handed out is a clear 400, not a 500
    _, only = as_person(
        stack,
        "maria",
        ["baggage"],
        "GET",
        "/departments/baggage/queue",
        query=f"limit=1&unclaimed=true&after={page1['next']}",
    )
    assert [c["case_id"] for c in only["cases"]] == ([second] if page1["cases"][0]["case_id"] == first else [])
    for bad in ("bm9wZQ", "x" * 40):
        status, out = as_person(stack, "maria", ["baggage"], "GET", "/departments/baggage/queue", query=f"after={bad}")
        assert status == 400 and "'after'" in out["message"], out
    status, _ = as_person(stack, "maria", ["baggage"], "GET", "/departments/baggage/queue", query="after=a%2Fb")
    assert status == 422


def test_marking_a_case_not_actionable_is_kept_as_a_label_and_the_case_can_then_close(stack, deps, open_case, x_api):
    # Given a case the classifier found actionable
    case_id = open_case("My bag is lost and the baggage desk is closed")
    before = deps.store.get_case(case_id)
    assert before.tags.actionable.value == "yes"
    # When the agent marks it not actionable
    status, out = as_person(
        stack, "maria", ["baggage"], "POST", f"/cases/{case_id}/label", {"agent": "maria", "actionable": False}
    )
    # Then the verdict is on the case and in its history, and its clock is untouched
    assert status == 200 and out["detail"] == {"actionable": False, "was": "yes"}
    after = deps.store.get_case(case_id)
    assert after.tags.actionable.value == "no" and after.tags.actionable.confidence == 1.0
    assert after.clock == before.clock and after.is_open
    _, shown = as_person(stack, "maria", ["baggage"], "GET", f"/cases/{case_id}")
    assert [
        (e["type"], e["actor"], e["detail"]["actionable"]) for e in shown["history"] if e["type"] == "case.labelled"
    ] == [("case.labelled", "maria", False)]
    # And a label without a verdict is refused, nothing changed
    status, _ = as_person(stack, "maria", ["baggage"], "POST", f"/cases/{case_id}/label", {"agent": "maria"})
    assert status == 422
    # And the case then closes as any other
    status, out = as_person(
        stack,
        "maria",
        ["baggage"],
        "POST",
        f"/cases/{case_id}/resolve",
        {"agent": "maria", "note": "not actionable: a compliment"},
    )
    assert status == 200 and out["status"] == "resolved"
