"""`socialcare agent ...` against the stack found from its outputs, the real state machine moving."""

from __future__ import annotations

import json

import pytest
from socialcare import cli as socialcare_cli

from tests.integration.conftest import execution, wait_for

pytestmark = pytest.mark.integration


def main(argv: list[str]) -> int:
    """`socialcare agent ...` through the CLI's entry point: its errors become one line and an exit code."""
    return socialcare_cli.main(argv)


def cli(capsys, stack, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()  # handler logs written before this command
    code = main(["agent", *argv[:1], "--stack", stack.stack_name, *argv[1:]])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_works_a_case_through_claim_reply_transfer_handoff_wait_and_resolve(stack, deps, open_case, capsys, x_api):
    # Given a baggage case waiting for an agent
    case_id = open_case("@SkylarkAir my suitcase is lost and the baggage desk is closed, please help")
    # When a baggage agent works it from the terminal
    code, out, _ = cli(capsys, stack, "queue", "baggage", "--json")
    assert code == 0 and case_id in [c["case_id"] for c in json.loads(out)["cases"]]
    assert cli(capsys, stack, "claim", case_id, "--as", "maria", "--dept", "baggage")[0] == 0
    code, out, _ = cli(capsys, stack, "reply", case_id, "So sorry - tracing it now.", "--as", "maria")
    # Then the reply was published through the X write API (the brand has write credentials)
    assert code == 0 and "published" in out
    posted = [json.loads(c.request.body) for c in x_api.calls if c.request.url.endswith("/2/tweets")]
    assert posted[-1]["text"] == "So sorry - tracing it now."
    assert posted[-1]["reply_settings"] == "mentionedUsers" and "in_reply_to_tweet_id" in posted[-1]["reply"]
    # And the case moves on through transfer, hand-off, wait-customer and resolve
    assert (
        cli(
            capsys,
            stack,
            "transfer",
            case_id,
            "--to",
            "reservations",
            "--note",
            "needs a refund",
            "--as",
            "maria",
        )[0]
        == 0
    )
    wait_for(lambda: (c := deps.store.get_case(case_id)).token_fresh and c.department == "reservations")
    assert cli(capsys, stack, "claim", case_id, "--as", "li", "--dept", "reservations")[0] == 0
    code, out, _ = cli(
        capsys,
        stack,
        "handoff",
        case_id,
        "--to",
        "dm",
        "--text",
        "Please send your booking code",
        "--as",
        "li",
    )
    assert code == 0 and "dm: published" in out
    # after the hand-off, replies continue in the DM
    code, out, _ = cli(capsys, stack, "reply", case_id, "Thanks, found it", "--as", "li")
    assert code == 0 and "dm: published" in out and "public" not in out
    assert cli(capsys, stack, "wait-customer", case_id, "--as", "li")[0] == 0
    code, out, _ = cli(capsys, stack, "show", case_id, "--json")
    shown = json.loads(out)
    assert shown["owner"] == "li" and shown["status"] == "waiting_customer"
    assert {"name": "next_update", "due_at": None, "seconds_left": None, "state": "paused"} in shown["clocks"]
    assert shown["departments_history"] == ["baggage", "reservations"]
    assert any(
        m["text"] == "So sorry - tracing it now." and m["delivery"] == "published" for m in shown["conversation"]
    )
    assert cli(capsys, stack, "resolve", case_id, "--note", "refunded", "--as", "li")[0] == 0
    wait_for(lambda: execution(stack, case_id)["status"] == "SUCCEEDED")
    acted = [(e["type"], e["actor"]) for e in deps.store.events(case_id) if e["actor"] in {"maria", "li"}]
    assert acted == [
        ("case.claimed", "maria"),
        ("case.replied", "maria"),
        ("case.transferred", "maria"),
        ("case.claimed", "li"),
        ("case.handed_off", "li"),
        ("case.replied", "li"),
        ("case.waiting_customer", "li"),
        ("case.resolved", "li"),
    ]
    assert [e for e in deps.store.events(case_id) if e["type"] == "case.resolved"][0]["actor"] == "li"


def test_cli_refusals_are_clear_and_change_nothing(stack, deps, open_case, capsys, x_api):
    case_id = open_case("@SkylarkAir my suitcase is lost and the baggage desk is closed, please help")
    assert cli(capsys, stack, "claim", case_id, "--as", "maria")[0] == 0
    before = wait_for(lambda: (c := deps.store.get_case(case_id)).token_fresh and c)
    events_before = len(deps.store.events(case_id))
    # someone else's case without --force
    code, _, err = cli(capsys, stack, "claim", case_id, "--as", "tom")
    assert code == 2 and "owned by maria" in err and "--force" in err
    # a case in another department's queue
    code, _, err = cli(capsys, stack, "reply", case_id, "hello", "--as", "tom", "--dept", "reservations")
    assert code == 2 and "baggage queue" in err
    after = deps.store.get_case(case_id)
    assert (after.owner, after.version) == ("maria", before.version)
    assert len(deps.store.events(case_id)) == events_before
    # resolve a resolved case
    assert cli(capsys, stack, "resolve", case_id, "--note", "done", "--as", "maria")[0] == 0
    resolved = deps.store.get_case(case_id)
    code, _, err = cli(capsys, stack, "resolve", case_id, "--note", "again", "--as", "maria")
    assert code == 2 and "resolved" in err
    assert deps.store.get_case(case_id).version == resolved.version
    # --force takes over; an unknown stack is a clear error
    assert main(["agent", "queue", "baggage", "--stack", "no-such-stack"]) == 4
    assert "no stack 'no-such-stack'" in capsys.readouterr().err


def test_cli_reply_without_write_credentials_is_a_draft(stack, deps, open_case, capsys):
    # Given a case from Mastodon, a platform the brand has no write credentials for
    case_id = open_case(
        "@SkylarkAir my suitcase is lost and the baggage desk is closed, please help", platform="mastodon"
    )
    # When the agent replies
    code, out, _ = cli(capsys, stack, "reply", case_id, "We are on it", "--as", "maria")
    # Then it is recorded as a draft for a human to post, and the CLI says so
    assert code == 0 and "DRAFT" in out and "no write credentials for mastodon" in out
    msgs = [m for m in deps.store.messages(case_id) if m["direction"] == "out"]
    assert msgs[-1]["delivery"] == "draft"
