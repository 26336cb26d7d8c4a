"""Fuzzing: no AWS, no network. Handler logging is silenced (thousands of rejections would flood)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

from tests.fuzz import targets

# In CI the generated inputs are derived from each test's name, not drawn at random: the gate is
# repeatable, and a run on a developer machine (`make fuzz`) keeps exploring new inputs.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


class _NullMetrics:
    def add_metric(self, **kwargs: Any) -> None:
        return None


@pytest.fixture
def intake_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, list[Any]]]:
    """The mentions-queue consumer with a fake SQS and the router stubbed: what reaches the router."""
    from socialcare.cases import intake
    from socialcare.observability import logger

    routed: list[Any] = []

    class Deps:
        sqs = targets.FakeSqs()

    def fake_route(mention: Any, deps: Any) -> Any:
        routed.append(mention)
        from socialcare.cases.router import RouteResult

        return RouteResult("ignored", None, None)

    monkeypatch.setattr(intake, "route_mention", fake_route)
    monkeypatch.setattr(intake, "metrics", _NullMetrics())
    level = logger.log_level
    logger.setLevel("ERROR")
    yield intake, Deps(), routed
    logger.setLevel(level)


@pytest.fixture
def agent_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The agent API's real handler on moto DynamoDB, workflow/events/queues faked (see agent_harness)."""
    from tests.fuzz.agent_harness import agent_api_harness

    with agent_api_harness(monkeypatch) as harness:
        yield harness


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if targets.COUNTS:
        total = sum(targets.COUNTS.values())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(targets.COUNTS.items()))
        terminalreporter.write_line(f"fuzz: {total} generated inputs, no unhandled exception ({detail})")
