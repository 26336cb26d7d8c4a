"""The commands README.md, docs/departments.md and docs/cli.md show, run as written against a running
`socialcare local up`: found without options, through the CLI's entry point, outputs and exit codes
checked. The README's SDK snippet runs as written in a separate process.

One local stack for the module (a separate process, as a person would start it); each command runs
through `socialcare.cli.main` with this process's environment restored afterwards."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from socialcare import cli
from socialcare.errors import Exit
from socialcare.models import case_id_for

from tests.builders import mention
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CASE = "SC-7K2M9QXA"  # the case id the docs use in their examples


def _env(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
    env.update(SOCIALCARE_LOCAL_STATE=str(state), AWS_EC2_METADATA_DISABLED="true")
    return env


@pytest.fixture(scope="module")
def local_up(tmp_path_factory) -> Iterator[dict]:
    state = tmp_path_factory.mktemp("local") / "state.json"
    env = _env(state)
    up = subprocess.Popen(
        [sys.executable, "-m", "socialcare.cli", "local", "up", "--no-samples", "--sla-scale", "60"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        info = wait_for(lambda: state.exists() and json.loads(state.read_text()), timeout=90, interval=0.2)
        assert info["endpoint_url"].startswith("http://127.0.0.1:") and info["stack_name"] == "socialcare"
        yield {"state": state, "env": env, **info}
    finally:
        down = subprocess.run(
            [sys.executable, "-m", "socialcare.cli", "local", "down"],
            env=env,
            cwd=ROOT,
            timeout=60,
            check=False,
            capture_output=True,
            text=True,
        )
        up.wait(timeout=60)
    # `local down` stops the process `local up` started and removes its state file
    assert "stopped the local stack socialcare" in down.stdout and not state.exists()


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """The CLI points this process's clients at the stack it talks to; undo that for the next test."""
    from socialcare import aws
    from socialcare.settings import get_settings

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        aws.reset_clients()
        get_settings.cache_clear()


def sc(local_up: dict, command: str, *, extra_env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """`socialcare ...` as a person types it (one line of shell), through the CLI's entry point."""
    argv = shlex.split(command)
    assert argv[0] == "socialcare"
    out, err = io.StringIO(), io.StringIO()
    with (
        _environment({**local_up["env"], **(extra_env or {})}),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = cli.main(argv[1:])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def sc_retry(local_up: dict, command: str, timeout: float = 30) -> tuple[int, str, str]:
    """Exit 3 means "busy, retry": the case workflow is not waiting for an action yet."""
    deadline = time.monotonic() + timeout
    while True:
        code, out, err = sc(local_up, command)
        if code != Exit.BUSY or time.monotonic() > deadline:
            return code, out, err
        time.sleep(0.5)


def doc_commands(path: Path, prefix: str) -> list[str]:
    """The `socialcare ...` lines of a document's sh blocks, comments and [optional] parts removed."""
    text = path.read_text(encoding="utf-8")
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            line = re.sub(r"\s*\[[^\]]*\]", "", line)
            if line.startswith(prefix):
                lines.append(line)
    return lines


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def queued_cases(local_up: dict, department: str, n: int) -> list[str]:
    def enough() -> list[str] | None:
        code, out, _ = sc(local_up, f"socialcare agent queue {department} --json")
        ids = [c["case_id"] for c in json.loads(out)["cases"]] if code == 0 else []
        return ids if len(ids) >= n else None

    return wait_for(enough, timeout=60, interval=0.5)


def test_operator_commands_work_against_local_up_and_say_when_lists_are_empty(local_up):
    # Given a running local stack with no incidents, quiet periods or posts (this test runs first)
    # When an operator lists them, the lists say they are empty
    for command, expected in [
        ("socialcare incident list", "no open incidents"),
        ("socialcare quiet list", "no quiet periods"),
        ("socialcare quiet held", "nothing held"),
        ("socialcare posts list", "no scheduled posts"),
    ]:
        code, out, err = sc(local_up, command)
        assert code == 0 and out.strip().splitlines()[0].startswith(expected) and err == "", (command, out, err)
    # And mistakes are one line with the documented code
    for command, code_expected, words in [
        ("socialcare incident show INC-NOPE", Exit.NOT_FOUND, "INC-NOPE"),
        ("socialcare quiet end Q-NOPE", Exit.NOT_FOUND, "Q-NOPE"),
        ("socialcare quiet held --quiet Q-NOPE", Exit.NOT_FOUND, "Q-NOPE"),
        ('socialcare quiet start --region atlantis --until 6h --reason "storm"', Exit.REFUSED, "atlantis"),
        ('socialcare quiet start --region florida --until tomorrow --reason "storm"', Exit.USAGE, "tomorrow"),
    ]:
        code, out, err = sc(local_up, command)
        assert code == code_expected and words in one_line_error(err) and out == "", command
    # And a quiet period, a scheduled post, the report and the dead-letter queues work as documented
    code, out, err = sc(local_up, 'socialcare quiet start --region US-FL --until 6h --reason "hurricane"')
    assert code == 0 and out.startswith("quiet period Q-"), err
    quiet_id = out.split()[2]
    code, out, _ = sc(local_up, 'socialcare posts schedule --at 1h --text "Fly to Miami for less" --region US-FL')
    assert code == 0 and out.startswith("scheduled ")
    code, out, _ = sc(local_up, "socialcare posts list")
    assert code == 0 and "Fly to Miami" in out
    code, out, _ = sc(local_up, f"socialcare quiet end {quiet_id}")
    assert code == 0 and f"quiet period {quiet_id} ended" in out
    code, out, _ = sc(local_up, "socialcare report parity --json")
    assert code == 0 and "alarm" in json.loads(out)
    code, out, _ = sc(local_up, "socialcare dlq show mentions --json")
    assert code == 0 and json.loads(out)["queue"] == "mentions"
    code, out, _ = sc(local_up, "socialcare template sync --check")
    assert code == 0 and "in step with" in out


def test_documented_commands_work_against_local_up(local_up, tmp_path):
    # Given the replay line docs/cli.md documents, and the README's SDK snippet
    documented = re.search(r'```json\n(\{"platform".*?\})\n```', (ROOT / "docs/cli.md").read_text()).group(1)
    first = tmp_path / "first.jsonl"
    first.write_text(documented + "\n", encoding="utf-8")
    # When the line is replayed into the local stack, found without options
    code, out, err = sc(local_up, f"socialcare replay {first}")
    assert (code, json.loads(out.splitlines()[-1])) == (0, {"queued": 1, "duplicates": 0, "rejected": 0}), err
    case = case_id_for("x#" + json.loads(documented)["id"])
    assert case in queued_cases(local_up, "baggage", 1)

    # Then the README's SDK snippet runs as written (claims and answers that case as Priya)
    snippet = re.search(
        r"```python\n(from socialcare.assembly import connect_agent\n.*?)```",
        (ROOT / "README.md").read_text(),
        flags=re.S,
    ).group(1)
    env = {**local_up["env"], "AWS_REGION": "us-east-1"}
    ran = subprocess.run(
        [sys.executable, "-c", snippet], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    code, out, _ = sc(local_up, f"socialcare agent show {case} --json")
    shown = json.loads(out)
    assert code == 0 and shown["owner"] == "Priya" and shown["conversation"][-1]["direction"] == "out"
    assert [h["action"] for h in shown["history"]][-2:] == ["claimed", "replied"]
    assert shown["history"][-1]["actor"] == "Priya"

    # And a second replay of the same file reports a duplicate, not a queued mention
    code, out, _ = sc(local_up, f"socialcare replay {first}")
    assert (code, json.loads(out)) == (0, {"queued": 0, "duplicates": 1, "rejected": 0})

    # Given six more baggage cases from different customers (and one bad line, named by field and number)
    more = [mention(f"@SkylarkAir my suitcase is lost since flight {n}, the baggage desk is closed") for n in range(6)]
    second = tmp_path / "more.jsonl"
    bad = json.loads(more[0].model_dump_json())
    del bad["author"]["handle"]
    second.write_text("\n".join([*(m.model_dump_json() for m in more), json.dumps(bad)]) + "\n", encoding="utf-8")
    code, out, _ = sc(local_up, f"socialcare replay {second} --stack socialcare")
    lines = [json.loads(x) for x in out.splitlines()]
    assert code == 1 and lines[0] == {"line": 7, "error": "author.handle: Field required"}
    assert lines[-1] == {"queued": 6, "duplicates": 0, "rejected": 1}
    cases = [case_id_for(m.key) for m in more]
    wait_for(lambda: set(cases) <= set(queued_cases(local_up, "baggage", 7)), timeout=60, interval=0.5)

    # When a department agent uses docs/departments.md's commands as written, on one of those cases
    commands = doc_commands(ROOT / "docs/departments.md", "socialcare agent")
    assert len(commands) >= 9
    target = cases[0]
    for command in commands:
        code, out, err = sc_retry(local_up, command.replace(EXAMPLE_CASE, target))
        # Then each one does what it says: exit 0, a human line, no logs on stdout
        assert code == 0, (command, err)
        assert out.strip() and not out.lstrip().startswith("{"), (command, out)
        assert err == "", (command, err)
        if " queue " in command:
            assert "baggage:" in out and "open case" in out
    code, out, _ = sc(local_up, f"socialcare agent show {target}")
    history = out.split("history:\n", 1)[1]
    for who, action in [
        ("maria", "claimed"),
        ("maria", "replied"),
        ("maria", "handed_off"),
        ("maria", "transferred"),
        ("li", "resolved"),
        ("li", "reopened"),
    ]:
        assert re.search(rf"\b{who}\s+{action}\b", history), (who, action, history)
    assert "refunded" in history and "wrong bag delivered" in history

    # And the queue says how many it is not showing
    code, out, _ = sc(local_up, "socialcare agent queue baggage --limit 3")
    total = len(queued_cases(local_up, "baggage", 1))
    assert code == 0 and f"showing 3 of {total}" in out.splitlines()[0] and total > 3

    # And --json prints only JSON, even for an action (no log line first), and AWS_REGION/--region
    # against local up reach the stack instead of failing for want of a region
    code, out, err = sc_retry(local_up, f"socialcare agent claim {cases[1]} --as ana --json --region us-east-1")
    assert code == 0 and json.loads(out)["status"] == "claimed" and err == ""
    code, out, err = sc_retry(
        local_up,
        f'socialcare agent reply {cases[1]} "Tracing it now." --as ana --json',
    )
    assert code == 0 and json.loads(out)["detail"]["delivery"] == "draft"
    code, out, err = sc(
        local_up, f"socialcare agent handoff {cases[1]} --to dm --as ana", extra_env={"AWS_REGION": "us-east-1"}
    )
    while code == Exit.BUSY:
        code, out, err = sc(local_up, f"socialcare agent handoff {cases[1]} --to dm --as ana")
    assert code == 0 and "handoff done by ana" in out, err

    # And mistakes are one line with the documented code
    code, _, err = sc(local_up, f"socialcare agent claim {cases[1]} --as bob")
    assert code == Exit.REFUSED and "owned by ana" in one_line_error(err)
    code, _, err = sc(local_up, "socialcare agent show SC-NOPENOPE")
    assert code == Exit.NOT_FOUND and "SC-NOPENOPE" in one_line_error(err)
    code, _, err = sc(local_up, "socialcare agent queue luggage")
    assert code == Exit.NOT_FOUND and "unknown department 'luggage'" in one_line_error(err)
    for command in (
        f"socialcare replay {first} --stack nosuch",
        "socialcare dlq show mentions --stack nosuch",
        "socialcare privacy export --author x:jane_doe --stack nosuch",
    ):
        code, out, err = sc(local_up, command)
        assert code == Exit.NOT_FOUND and "no stack 'nosuch'" in one_line_error(err) and out == ""

    # And docs/departments.md's SDK snippet runs as written: maria answers and resolves the unowned cases
    snippet = re.search(
        r"```python\n(from socialcare.agents import NotAllowedError\n.*?)```",
        (ROOT / "docs/departments.md").read_text(),
        flags=re.S,
    ).group(1)
    ran = subprocess.run(
        [sys.executable, "-c", snippet],
        env=local_up["env"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    printed = ran.stdout.splitlines()  # what the snippet prints, and nothing else (our logs go to stderr)
    assert printed and all(line == "draft" or "is resolved" in line for line in printed), ran.stdout
    assert printed.count("draft") == len(printed) // 2
    code, out, _ = sc(local_up, f"socialcare agent show {cases[2]} --json")
    assert json.loads(out)["status"] == "resolved" and json.loads(out)["owner"] == "maria"

    # And privacy erase counts the published replies and the drafts apart (local up has no write credentials)
    code, out, _ = sc(local_up, "socialcare privacy erase --author x:jane_doe --dry-run --json")
    report = json.loads(out)
    assert code == 0 and (report["cases"], report["published"], report["drafts"]) == (1, 0, 1)
    code, out, _ = sc(local_up, "socialcare privacy export --author x:jane_doe")
    assert code == 0 and json.loads(out)["cases"][0]["id"] == case


def test_poll_finds_local_up_and_queues_into_it(local_up):
    from datetime import UTC, datetime, timedelta

    from socialcare.local.platform_server import PlatformServer, sample_posts

    # Given a loopback X API with three posts
    posts = sample_posts(3, start=datetime.now(UTC) - timedelta(minutes=5))
    with PlatformServer(posts, token="t0ken") as server:  # noqa: S106 - a loopback server's fake token
        # When `socialcare poll` runs with no stack options while local up is running
        code, out, err = sc(
            local_up, f"socialcare poll --platform x --base-url {server.base_url} --query skylark --token t0ken"
        )
    # Then the posts go into the local stack's queue (its router takes them from there)
    assert code == 0, err
    assert json.loads(out.splitlines()[-1])["queued"] == 3


def test_the_inbox_backfill_completes_old_rows_on_local_up(local_up, tmp_path):
    import boto3
    from socialcare.agents.connect import LOCAL_CREDENTIALS
    from socialcare.store import case_key

    # Given three open baggage cases, two of them as the version before the inbox index wrote them
    fresh = [
        mention(f"@SkylarkAir my suitcase is lost since flight LX{n}, the baggage desk is closed") for n in range(3)
    ]
    path = tmp_path / "backfill.jsonl"
    path.write_text("\n".join(m.model_dump_json() for m in fresh) + "\n", encoding="utf-8")
    assert sc(local_up, f"socialcare replay {path}")[0] == 0
    cases = [case_id_for(m.key) for m in fresh]
    wait_for(lambda: set(cases) <= set(queued_cases(local_up, "baggage", 3)), timeout=60, interval=0.5)
    with _environment(local_up["env"]):
        session = boto3.session.Session(region_name=local_up["region"], **LOCAL_CREDENTIALS)
        outputs = session.client("cloudformation", endpoint_url=local_up["endpoint_url"]).describe_stacks(
            StackName=local_up["stack_name"]
        )["Stacks"][0]["Outputs"]
        table = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "TableName")
        ddb = session.client("dynamodb", endpoint_url=local_up["endpoint_url"])
        for case_id in cases[:2]:
            ddb.update_item(
                TableName=table,
                Key=case_key(case_id),
                UpdateExpression="REMOVE summary, #l, followers",
                ExpressionAttributeNames={"#l": "language"},
            )
    # When an operator checks the stack and runs the backfill, found without options
    code, out, _ = sc(local_up, "socialcare doctor")
    assert "inbox rows" in out and "2 open cases lack their inbox row's summary or language" in out
    code, out, err = sc(local_up, "socialcare console backfill --dry-run")
    assert code == 0 and "would fill 2," in out and err == "", (out, err)
    code, out, err = sc(local_up, "socialcare console backfill")
    # Then it fills those two, and a second run fills none
    assert code == 0 and "filled 2," in out and out.strip().endswith("failed 0"), (out, err)
    code, out, _ = sc(local_up, "socialcare console backfill --json")
    assert code == 0 and json.loads(out)["filled"] == 0 and json.loads(out)["failed"] == []
    # And the inbox rows carry their language and followers, and doctor is content
    code, out, _ = sc(local_up, "socialcare agent queue baggage --json")
    rows = {c["case_id"]: c for c in json.loads(out)["cases"]}
    assert all(rows[c]["language"] and rows[c]["followers"] == 10 for c in cases)
    code, out, _ = sc(local_up, "socialcare doctor")
    assert next(line for line in out.splitlines() if "inbox rows" in line).startswith("OK")
