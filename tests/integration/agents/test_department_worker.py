"""examples/department_worker.py: work items pushed into a department's tool, partial failures retried."""

from __future__ import annotations

import pytest
from socialcare.agents import AgentClient

from examples.department_worker import ToolRejectedError, Worker

pytestmark = pytest.mark.integration


def test_worker_pushes_cases_and_leaves_failed_items_for_retry(stack, deps, open_case, x_api):
    # Given two baggage cases whose work items wait on the baggage queue
    first = open_case("@SkylarkAir my suitcase is lost and the baggage desk is closed, please help")
    second = open_case("@SkylarkAir my luggage never arrived at the carousel, please help")
    pushed: list[str] = []

    def tool(case, item):
        if case.case_id == second and second not in pushed:
            pushed.append(second)
            raise ToolRejectedError("the tool is down for this one")
        pushed.append(case.case_id)
        assert item["kind"] == "work_item" and case.suggestions[0].id == "delayed-bag"

    worker = Worker(AgentClient(deps, "worker", department="baggage"), tool)
    # When the worker handles a batch in which the tool rejects one item
    handled, failed = worker.poll_once("baggage", wait_s=0, retry_after_s=0)
    # Then the accepted item is gone from the queue and the rejected one comes back and succeeds
    assert (handled, failed) == (1, 1)
    again = (0, 0)
    for _ in range(5):
        again = worker.poll_once("baggage", wait_s=1)
        if again[0]:
            break
    assert again == (1, 0)
    assert sorted(set(pushed)) == sorted({first, second}) and pushed.count(second) == 2
    assert worker.poll_once("baggage", wait_s=0) == (0, 0)
