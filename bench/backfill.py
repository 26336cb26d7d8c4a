"""Inbox backfill benchmark: `socialcare console backfill` on a real `local up` (moto server over HTTP)
whose baggage department has 1,000 open cases written as the version before the inbox index wrote them
(no summary, language or followers). Measures the first run (time, DynamoDB requests by operation:
index queries, BatchGetItem of the opening mentions, one conditional UpdateItem per case, no Scan),
the second run (nothing left to fill), and the inbox page after it (one index query, no BatchGetItem).

    .venv/bin/python -m bench.backfill [--cases 1000]
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter
from typing import Any

from bench.console import _seed, local_server


def run(cases: int = 1000) -> dict[str, Any]:
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from socialcare.agents.sdk import AgentClient
    from socialcare.assembly import default_deps
    from socialcare.console.backfill import Backfill

    server = local_server("bench-backfill-")
    try:
        deps = default_deps()
        _seed(deps, "baggage", cases, row_copies=False)
        calls: Counter[str] = Counter()

        def count(model: Any, params: dict[str, Any], **_: Any) -> None:
            # The stack's own functions run in this process too (pollers, publishers) on other threads.
            if threading.current_thread() is not threading.main_thread():
                return
            calls[model.name + (f"({params['IndexName']})" if params.get("IndexName") else "")] += 1

        deps.store.ddb.meta.events.register("provide-client-params.dynamodb.*", count)
        departments = deps.settings.departments or deps.config.department_names
        started = time.perf_counter()
        first = Backfill(deps.store).run(departments)
        first_s = time.perf_counter() - started
        first_calls = dict(calls)
        calls.clear()
        started = time.perf_counter()
        second = Backfill(deps.store).run(departments)
        second_s = time.perf_counter() - started
        second_calls = dict(calls)
        calls.clear()
        page = AgentClient(deps, "bench").work_queue("baggage", limit=100)
        complete = sum(1 for c in page.cases if c.language and c.followers is not None and c.summary)
        result = {
            "cases": first.scanned,
            "first_run_s": round(first_s, 2),
            "first": first.lines()[-1],
            "first_requests": first_calls,
            "second_run_s": round(second_s, 2),
            "second": second.lines()[-1],
            "second_requests": second_calls,
            "inbox_page_rows_complete": f"{complete}/{len(page.cases)}",
            "inbox_page_requests": dict(calls),
        }
    finally:
        server.stop()
    for key, value in result.items():
        print(f"{key:<26} {value}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    run(parser.parse_args().cases)
