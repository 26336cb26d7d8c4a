"""User mistakes end as one line on stderr and the documented exit code; no traceback without --debug.

These need no stack: each mistake is caught before anything is reached (or nothing is there to reach)."""

from __future__ import annotations

import pytest
from socialcare import cli
from socialcare.errors import Exit


@pytest.fixture(autouse=True)
def no_stack_anywhere(monkeypatch, tmp_path):
    """No `local up` state, no AWS region, profile or endpoint, no AWS config files."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("SOCIALCARE_LOCAL_STATE", str(tmp_path / "no-state.json"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:  # argparse exits by itself on a wrong command line
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    "argv",
    [
        ["agent", "queue", "baggage"],
        ["agent", "reply", "SC-AAAAAAAA", "hello", "--region", "us-east-1"],
        ["replay", "/dev/null", "--stack", "nosuch"],
        ["dlq", "show", "mentions", "--stack", "nosuch"],
        ["privacy", "export", "--author", "x:jane", "--stack", "nosuch"],
        ["incident", "list"],
        ["quiet", "list"],
        ["posts", "list"],
        ["report", "parity"],
        ["console", "publish"],
    ],
)
def test_no_stack_to_talk_to_is_unavailable(capsys, argv, monkeypatch):
    # Given no local stack and no region (the agent reply case gives --region but no credentials exist)
    if "--region" in argv:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "")
    # When a stack command runs
    code, out, err = run(capsys, *argv)
    # Then it says there is no stack to talk to, in one line, with the "unavailable" code
    line = one_line(err)
    assert code in (Exit.UNAVAILABLE, Exit.NOT_FOUND), line
    if "--region" not in argv:
        assert code == Exit.UNAVAILABLE and "no stack to talk to" in line and "local up" in line
    assert out == ""


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["quiet", "start", "--region", "florida", "--until", "tomorrow", "--reason", "storm"], "'tomorrow'"),
        (["posts", "schedule", "--at", "soon", "--text", "hi"], "'soon'"),
        (["poll", "--platform", "x", "--base-url", "http://127.0.0.1:9"], "needs query"),
        (["agent", "queue", "baggage", "--limit", "0"], "positive"),
        (["agent", "fly"], "invalid choice"),
        (["incident"], "required"),
    ],
)
def test_a_wrong_command_line_is_a_usage_error_not_refused(capsys, argv, expected):
    code, out, err = run(capsys, *argv)
    assert code == Exit.USAGE != Exit.REFUSED
    assert expected in one_line(err) and out == ""


def test_a_configuration_typo_names_the_key_and_the_nearest_valid_one(capsys, tmp_path):
    from socialcare.settings import settings_from_env

    bad = tmp_path / "brand.yaml"
    bad.write_text(
        f"extends: {settings_from_env({}).config_path}\ndepartmnets: []\nsla:\n  first_respons_s: 10\n",
        encoding="utf-8",
    )
    for argv in (["config", "check", str(bad)], ["template", "sync", "--check", "--config", str(bad)]):
        code, _out, err = run(capsys, *argv)
        line = one_line(err)
        assert code == Exit.INVALID_CONFIG
        assert "departmnets: unknown key; did you mean 'departments'?" in line
        assert "sla.first_respons_s: unknown key; did you mean 'first_response_s'?" in line


def test_a_yaml_error_is_one_line_with_file_line_and_column(capsys, tmp_path):
    bad = tmp_path / "brand.yaml"
    bad.write_text("brand: Skylark\nsla: {first_response_s: 1\n  next_update_s: [\n", encoding="utf-8")
    code, _out, err = run(capsys, "config", "check", str(bad))
    assert code == Exit.INVALID_CONFIG and one_line(err).startswith(f"socialcare: {bad}:3:")


def test_config_check_passes_the_shipped_brand(capsys):
    from socialcare.settings import settings_from_env

    code, out, err = run(capsys, "config", "check", settings_from_env({}).config_path)
    assert code == 0 and out.strip().endswith("regions)") and ": ok (" in out and err == ""


def test_config_check_names_the_deploy_parameter_a_managed_classifier_needs(capsys, tmp_path):
    from socialcare.settings import settings_from_env

    cascade = tmp_path / "brand.yaml"
    cascade.write_text(
        f"extends: {settings_from_env({}).config_path}\nclassifier:\n  cascade: {{languages: [hi]}}\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "config", "check", str(cascade))
    assert code == 0 and err == ""
    assert out.splitlines()[-1] == f"{cascade}: calls Amazon Comprehend: deploy with ManagedClassifier=comprehend"
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        f"extends: {settings_from_env({}).config_path}\nclassifier:\n  cascade: {{languages: [nl]}}\n",
        encoding="utf-8",
    )
    code, _out, err = run(capsys, "config", "check", str(wrong))
    assert code == Exit.INVALID_CONFIG and "Comprehend has no sentiment for ['nl']" in one_line(err)


def test_debug_shows_the_traceback(capsys):
    code, _out, err = run(capsys, "--debug", "agent", "queue", "baggage")
    assert code == Exit.UNAVAILABLE and "Traceback" in err and "no stack to talk to" in err.splitlines()[-1]


def test_a_fault_of_ours_is_an_internal_error_with_a_hint(capsys, monkeypatch):
    from socialcare.quiet import commands

    def broken(_args):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(commands, "_list", broken)
    code, _out, err = run(capsys, "quiet", "list")
    assert code == Exit.INTERNAL and "--debug" in one_line(err)


def test_local_up_with_a_bad_configuration_stops_before_it_says_up(capsys, tmp_path):
    # Given a configuration whose source has no credentials
    from socialcare.settings import settings_from_env

    bad = tmp_path / "brand.yaml"
    bad.write_text(
        f"extends: {settings_from_env({}).config_path}\nsources:\n  - {{id: x-search, platform: x, query: skylark}}\n",
        encoding="utf-8",
    )
    # When `local up` is asked to run it
    code, out, err = run(capsys, "local", "up", "--config", str(bad), "--no-samples")
    # Then it stops with the configuration's problem, before anything starts or says "up"
    assert code == Exit.INVALID_CONFIG and "source x-search: x needs `secret:`" in one_line(err)
    assert " up at " not in out and not (tmp_path / "no-state.json").exists()


def test_a_local_stack_that_has_stopped_is_unavailable_and_says_how_to_recover(capsys, tmp_path, monkeypatch):
    import json
    import socket

    # Given a state file left by a `local up` whose port nobody listens on any more
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    state = tmp_path / "stale.json"
    state.write_text(json.dumps({"endpoint_url": f"http://127.0.0.1:{port}", "stack_name": "socialcare"}))
    monkeypatch.setenv("SOCIALCARE_LOCAL_STATE", str(state))
    # When an agent asks for the queue
    code, out, err = run(capsys, "agent", "queue", "baggage")
    # Then the command says it cannot reach it, and what to do
    line = one_line(err)
    assert code == Exit.UNAVAILABLE and f"cannot reach http://127.0.0.1:{port}" in line and "local up" in line
    assert out == ""


def test_busy_means_retry_the_same_request_whether_the_case_or_the_table_was_busy():
    from socialcare.cases.actions import BusyError
    from socialcare.store import StoreBusyError

    # Given the two ways an action can find the stack too busy to finish it now
    for exc in (
        BusyError("case SC-AAAAAAAA kept changing; retry the same request"),
        StoreBusyError("transaction cancelled 6 times: ['ThrottlingError', 'None']", ["ThrottlingError"]),
    ):
        # Then both end with the documented "busy" code, never as an internal error
        code, line = cli._classify(exc)
        assert code == Exit.BUSY and line.startswith("busy: ")


def test_a_busy_action_names_the_request_to_retry_even_when_none_was_given(monkeypatch, capsys):
    from socialcare.agents import commands
    from socialcare.cases.actions import HandoverError

    tried: list[str] = []

    class Client:
        name = "maria"

        def reply(self, case_id: str, text: str, *, request_id: str) -> None:
            tried.append(request_id)
            raise HandoverError(
                f"case {case_id}: the reply is recorded but the case workflow did not take it yet; "
                "retry the same request"
            )

    monkeypatch.setattr(commands, "_client", lambda args: Client())
    # Given an action recorded on the case whose workflow Step Functions would not resume just now
    code, out, err = run(capsys, "agent", "reply", "SC-AAAAAAAA", "On it", "--as", "maria")
    # Then the command is busy, and says which request id to retry with (one was made up for it)
    line = one_line(err)
    assert code == Exit.BUSY and "busy: " in line and out == ""
    assert tried and tried[0] and f"--request-id {tried[0]}" in line
