"""`socialcare console backfill` on a stack upgraded in place: open cases written before the inbox index
carried their row's copies (summary, language, followers) get them, once, without overwriting anything."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from socialcare import cli as socialcare_cli
from socialcare.aws import CLIENT_CONFIG
from socialcare.console.backfill import Backfill
from socialcare.doctor.checks import OK, WARN
from socialcare.doctor.checks import run as run_checks
from socialcare.privacy.service import ERASED, erase_author
from socialcare.store import Store, case_key, mention_key

from tests.faults import throughput_exceeded

pytestmark = pytest.mark.integration

COPIES = ("summary", "language", "followers")


def as_before_the_index(stack: Any, *case_ids: str) -> None:
    """The case items as the version before the inbox index wrote them: without the three copies."""
    ddb = boto3.client("dynamodb")
    for case_id in case_ids:
        ddb.update_item(
            TableName=stack.outputs["TableName"],
            Key=case_key(case_id),
            UpdateExpression="REMOVE summary, #lang, followers",
            ExpressionAttributeNames={"#lang": "language"},
        )


def inbox_rows(stack: Any, department: str) -> dict[str, dict[str, Any]]:
    """What the inbox index itself holds for each open case (no fallback read)."""
    items = boto3.client("dynamodb").query(
        TableName=stack.outputs["TableName"],
        IndexName="InboxByDepartment",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"DEPT#{department}#OPEN"}},
    )["Items"]
    return {i["id"]["S"]: {k: next(iter(i[k].values())) for k in COPIES if k in i} for i in items}


def doctor(stack: Any) -> Any:
    return next(c for c in run_checks(stack.stack_name, boto3.client) if c.name == "inbox rows")


def backfill(capsys: Any, stack: Any, *extra: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = socialcare_cli.main(["console", "backfill", "--stack", stack.stack_name, *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_backfill_completes_old_rows_once_and_leaves_erased_people_alone(stack, deps, open_case, x_api, capsys):
    from socialcare.agents.sdk import AgentClient

    # Given baggage cases written before the index carried the copies, one whose author has no
    # follower count, one of a person since erased, and one opened by this version
    old = [open_case(f"@SkylarkAir my suitcase number {n} is lost at Heathrow, please help") for n in (1, 2)]
    unknown_reach = open_case("@SkylarkAir my bag never arrived and the desk is closed", followers=None)
    erased = open_case("@SkylarkAir lost luggage again, the desk ignores me", handle="forget_me")
    current = open_case("@SkylarkAir where is my suitcase? It was on the Lisbon flight")
    as_before_the_index(stack, *old, unknown_reach, erased)
    erase_author(deps.store, "x:forget_me", requested_by="test")
    assert doctor(stack).verdict == WARN and "3 open cases lack" in doctor(stack).detail  # the erased one is not
    before = {v.case_id: v for v in AgentClient(deps, "maria").work_queue("baggage").cases}
    assert before[old[0]].language is None and before[old[0]].followers is None
    assert before[old[0]].summary.startswith("@SkylarkAir my suitcase number 1")  # the fallback read

    # When the backfill runs after the upgrade
    code, out, err = backfill(capsys, stack, "--json")

    # Then every old row is complete in the index, from the case's own tags and author and its opening mention
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["failed"] == []
    assert {k: report[k] for k in ("filled", "complete", "erased")} == {"filled": 3, "complete": 1, "erased": 1}
    assert report["scanned"] == 5
    rows = inbox_rows(stack, "baggage")
    for case_id in old:
        assert rows[case_id]["language"] == deps.store.get_case(case_id).tags.language.value
        assert rows[case_id]["followers"] == "10"
        assert rows[case_id]["summary"].startswith("@SkylarkAir my suitcase number")
    assert set(rows[unknown_reach]) == {"summary", "language"}  # no count to copy: complete without one
    # And the erased person's case is as the erasure left it
    assert rows[erased] == {"summary": ERASED}
    # And the inbox shows the rows complete
    after = {v.case_id: v for v in AgentClient(deps, "maria").work_queue("baggage").cases}
    assert after[old[1]].language == rows[old[1]]["language"] and after[old[1]].followers == 10
    assert after[current].summary.startswith("@SkylarkAir where is my suitcase")

    # And `socialcare doctor` no longer asks for it
    assert doctor(stack).verdict == OK

    # When it runs a second time, Then it finds nothing to fill
    code, out, _ = backfill(capsys, stack)
    assert code == 0
    assert out.strip().endswith("filled 0, already complete 4, erased 1, failed 0")


def test_a_throttled_write_is_retried_and_one_that_stays_throttled_is_reported(stack, deps, open_case, x_api):
    # Given two old-shape cases, and a table that throttles writes: the first case's first write once,
    # the second case's every write
    first = open_case("@SkylarkAir my suitcase is lost at Heathrow, please help")
    second = open_case("@SkylarkAir my bag never arrived in Lisbon, please help")
    as_before_the_index(stack, first, second)
    # The product's retry settings (botocore standard mode), with fewer retries to keep the test short:
    # botocore's max_attempts counts the retries, so 2 means 3 attempts in all.
    client = boto3.client(
        "dynamodb", config=CLIENT_CONFIG.merge(Config(retries={"mode": "standard", "max_attempts": 2}))
    )
    writes: dict[str, int] = {first: 0, second: 0}

    def throttle(request: Any, **_: Any) -> Any:
        if not request.headers.get("X-Amz-Target", b"").endswith(b".UpdateItem"):
            return None
        case_id = json.loads(request.body)["Key"]["PK"]["S"].removeprefix("CASE#")
        writes[case_id] += 1
        if case_id == second or writes[case_id] == 1:
            return throughput_exceeded(request)
        return None

    client.meta.events.register_first("before-send.dynamodb", throttle)

    # When the backfill runs
    report = Backfill(Store(client, stack.outputs["TableName"])).run(["baggage"])

    # Then the first case was written on the retry; the second is reported with its id and the reason
    assert writes == {first: 2, second: 3}
    assert report.filled == 1
    assert [(f.case_id, f.department) for f in report.failed] == [(second, "baggage")]
    assert "ProvisionedThroughputExceededException" in report.failed[0].reason
    assert "after 3 attempts" in report.failed[0].reason
    rows = inbox_rows(stack, "baggage")
    assert set(rows[first]) == set(COPIES) and rows[second] == {}
    # And a later run, once the table has capacity again, completes it
    again = Backfill(deps.store).run(["baggage"])
    assert (again.filled, again.complete, again.failed) == (1, 1, [])
    assert set(inbox_rows(stack, "baggage")[second]) == set(COPIES)


def test_a_copy_written_meanwhile_is_kept_and_only_the_others_are_filled(stack, deps, open_case, x_api):
    # Given an old-shape case, and another writer who sets its summary just before the backfill's write
    case_id = open_case("@SkylarkAir my suitcase is lost at Heathrow, please help")
    as_before_the_index(stack, case_id)
    table = stack.outputs["TableName"]
    other = boto3.client("dynamodb")
    client = boto3.client("dynamodb")
    raced: list[str] = []

    def write_first(request: Any, **_: Any) -> None:
        if request.headers.get("X-Amz-Target", b"").endswith(b".UpdateItem") and not raced:
            raced.append("summary")
            other.update_item(
                TableName=table,
                Key=case_key(case_id),
                UpdateExpression="SET summary = :s",
                ExpressionAttributeValues={":s": {"S": "written by someone else"}},
            )

    client.meta.events.register_first("before-send.dynamodb", write_first)

    # When the backfill runs
    report = Backfill(Store(client, table)).run(["baggage"])

    # Then its first write lost the condition, and the second wrote only what was still missing
    assert raced and report.filled == 1 and report.failed == []
    language = deps.store.get_case(case_id).tags.language.value
    assert inbox_rows(stack, "baggage")[case_id] == {
        "summary": "written by someone else",
        "language": language,
        "followers": "10",
    }


def test_a_case_whose_opening_mention_expired_is_reported_and_its_other_copies_filled(
    stack, deps, open_case, x_api, capsys
):
    # Given an old-shape case whose opening mention is past its retention (TTL deleted it)
    case_id = open_case("@SkylarkAir my suitcase is lost at Heathrow, please help")
    as_before_the_index(stack, case_id)
    boto3.client("dynamodb").delete_item(
        TableName=stack.outputs["TableName"], Key=mention_key(deps.store.get_case(case_id).mention_key)
    )
    # When the backfill runs
    code, out, _ = backfill(capsys, stack)
    # Then it says which case and why, exits 1, and the row has its language and followers
    assert code == 1
    assert f"failed {case_id} (baggage): its opening mention is no longer stored" in out
    assert "language and followers filled" in out
    language = deps.store.get_case(case_id).tags.language.value
    assert inbox_rows(stack, "baggage")[case_id] == {"language": language, "followers": "10"}


def test_user_mistakes_are_one_line_and_a_documented_exit_code(stack, capsys):
    code, out, err = backfill(capsys, stack, "--department", "nosuch")
    assert code == 4 and out == ""
    assert err.startswith("socialcare: unknown department 'nosuch'") and err.count("\n") == 1
    capsys.readouterr()
    assert socialcare_cli.main(["console", "backfill", "--stack", "nosuch"]) == 4
    assert capsys.readouterr().err.count("\n") == 1
    with pytest.raises(SystemExit) as usage:
        socialcare_cli.main(["console", "backfill", "--limit", "3"])
    assert usage.value.code == 64


def test_opening_mentions_that_cannot_be_read_are_reported_not_taken_for_expired(stack, deps, open_case, x_api):
    # Given an old-shape case, and a table that throttles every read of its opening mention
    case_id = open_case("@SkylarkAir my suitcase is lost at Heathrow, please help")
    as_before_the_index(stack, case_id)
    client = boto3.client(
        "dynamodb", config=CLIENT_CONFIG.merge(Config(retries={"mode": "standard", "max_attempts": 0}))
    )

    def throttle_reads(request: Any, **_: Any) -> Any:
        if request.headers.get("X-Amz-Target", b"").endswith(b".BatchGetItem"):
            return throughput_exceeded(request)
        return None

    client.meta.events.register_first("before-send.dynamodb", throttle_reads)
    # When the backfill runs
    report = Backfill(Store(client, stack.outputs["TableName"])).run(["baggage"])
    # Then the case is reported as unread (run again), not as past its retention, and its other copies are filled
    assert [f.case_id for f in report.failed] == [case_id]
    assert "could not be read" in report.failed[0].reason and "ProvisionedThroughputExceeded" in report.failed[0].reason
    assert "language and followers filled" in report.failed[0].reason
    assert set(inbox_rows(stack, "baggage")[case_id]) == {"language", "followers"}
    # And a run without the throttling completes it
    assert Backfill(deps.store).run(["baggage"]).filled == 1
    assert set(inbox_rows(stack, "baggage")[case_id]) == set(COPIES)
