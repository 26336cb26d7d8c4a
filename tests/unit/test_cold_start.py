"""What a cold start skips or shares: one botocore session for every client, clients and the classifier
built on first use, the brand configuration read by libyaml only when that is safe, and functions that
never load the modules only other functions need. Times are shown by bench/cold_start.py, not here."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import botocore.session
import pytest
import yaml
from socialcare import aws
from socialcare.classify import OnFirstUse
from socialcare.config import ConfigError, _safe_load, parse_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_clients(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    aws.reset_clients()
    yield
    aws.reset_clients()


def test_every_client_comes_from_one_session_until_reset(fresh_clients, monkeypatch):
    # Given a count of the botocore sessions made
    made = []
    real = botocore.session.Session

    def counted(*args, **kwargs):
        made.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(botocore.session, "Session", counted)
    # When two services' clients are built, one of them twice
    ddb, sqs, again = aws.client("dynamodb"), aws.client("sqs"), aws.client("dynamodb")
    # Then one session made both, and the same service gives the same client
    assert len(made) == 1 and again is ddb and sqs.meta.service_model.service_name == "sqs"
    # And after a reset (the local stack points clients elsewhere) a new session is made
    aws.reset_clients()
    aws.client("sqs")
    assert len(made) == 2


def test_a_lazy_client_is_built_on_first_use_and_kept(fresh_clients, monkeypatch):
    built = []
    real = botocore.session.Session.create_client

    def counted(self, service, *args, **kwargs):
        built.append(service)
        return real(self, service, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "create_client", counted)
    lazy = aws.LazyClient("stepfunctions")
    assert built == []
    assert lazy.meta.service_model.service_name == "stepfunctions"
    assert lazy.meta is aws.client("stepfunctions").meta and built == ["stepfunctions"]


def test_threads_asking_for_a_client_at_once_get_one(fresh_clients):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda _: aws.client("sqs"), range(16)))
    assert len({id(c) for c in got}) == 1


def test_the_classifier_is_built_by_the_first_mention_classified_and_once():
    # Given a classifier whose build is counted
    builds = []

    class Fixed:
        name = "fixed"

        def classify(self, text, *, platform=None, rating=None):
            return (text, platform, rating)

    def build():
        builds.append(1)
        return Fixed()

    lazy = OnFirstUse(build)
    # Then nothing is built until a mention is tagged, and it is built once
    assert builds == []
    assert lazy.classify("hello", platform="x", rating=4) == ("hello", "x", 4)
    assert lazy.classify("again") == ("again", None, None) and lazy.name == "fixed"
    assert builds == [1]


def test_libyaml_and_pyyaml_read_the_shipped_configurations_alike():
    for name in ("brand.yaml", "demo/brand.yaml"):
        text = (resources.files("socialcare") / "data" / name).read_text(encoding="utf-8")
        assert _safe_load(text) == yaml.safe_load(text)


def test_a_deeply_nested_configuration_is_refused_not_a_crash():
    # libyaml composes nesting by C recursion: 200,000 levels would crash the process (segfault). The
    # document goes to PyYAML, whose recursion ends in a clear configuration error.
    with pytest.raises(ConfigError, match="nested too deeply"):
        parse_config("[" * 200_000 + "]" * 200_000, source="deep.yaml")


def test_text_libyaml_cannot_read_gets_pyyamls_verdict():
    # A lone surrogate cannot be encoded for libyaml; PyYAML reads the text itself and refuses it
    with pytest.raises(ConfigError, match="bad.yaml"):
        parse_config("brand: \ud800", source="bad.yaml")
    # A syntax error carries PyYAML's line and column, as before
    with pytest.raises(ConfigError, match=r"cfg.yaml:1:9: not valid YAML"):
        parse_config("brand: [", source="cfg.yaml")


CHECK = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps({m: m in sys.modules for m in sys.argv[2:]}))
"""


@pytest.mark.parametrize(
    ("function", "absent"),
    [
        # The ops API needs the agents' auth, never the agent SDK or the case actions.
        ("ops_api", ["socialcare.agents.sdk", "socialcare.cases.actions", "requests"]),
        # The console loads the API a request is for with that request.
        ("console_api", ["socialcare.agents.api", "socialcare.quiet.api", "socialcare.agents.sdk"]),
        # The webhook needs neither the pollers' HTTP client nor the brand configuration.
        ("meta_webhook", ["requests", "yaml", "socialcare.config", "socialcare.ingest.poller"]),
    ],
)
def test_a_function_does_not_import_what_only_other_functions_use(function, absent):
    handler = ROOT / "functions" / function / "handler.py"
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true"}
    out = subprocess.run(
        [sys.executable, "-c", CHECK, str(handler), *absent],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(handler.parent),
        timeout=120,
        check=True,
    )
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert not any(loaded.values()), loaded
