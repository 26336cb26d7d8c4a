"""Console benchmark: a department inbox with 1,000 open cases on a real `local up` (moto server).

Measures the inbox API through the console's own loopback server (sign-in token, the console API
function, DynamoDB over HTTP): p50/p95 of the request the inbox page makes
(GET /departments/baggage/queue?limit=100: the 100 nearest due; "show more" asks for the next page with
the first one's `next`), the CPU each costs, the same
with a server-side filter (unclaimed), and the whole 1,000 at once for comparison; which DynamoDB
operations one inbox read makes (an index query and batched summary reads, never a scan); the first
render in headless Chromium (navigation start to the first 100 rows on screen) when
/usr/bin/chromium is installed (`make browser-deps`); and the bytes of the first page (the HTML, the
stylesheet and the modules it imports statically; case and ops pages load on demand).

    .venv/bin/python -m bench.console [--cases 1000] [--requests 40]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONSOLE = ROOT / "console"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


def first_page_bytes() -> tuple[int, list[str]]:
    """index.html, what it links, and every module reachable by static import from its entry module."""
    files = ["index.html", "console.css"]
    todo = ["js/main.js"]
    while todo:
        name = todo.pop()
        if name in files:
            continue
        files.append(name)
        text = (CONSOLE / name).read_text(encoding="utf-8")
        for dep in re.findall(r"^import .*? from '\./([\w.]+)';", text, flags=re.M):
            todo.append(f"js/{dep}")
    return sum((CONSOLE / f).stat().st_size for f in files), files


def _seed(deps: Any, department: str, n: int, *, row_copies: bool = True) -> None:
    """n open cases and their opening mentions; without `row_copies`, as the version before the inbox
    index wrote them (no summary, language or followers on the case)."""
    from socialcare.cases import clocks
    from socialcare.models import Author, Case, Mention, Scored, SlaPolicy, Tags, case_id_for

    now = datetime.now(UTC)
    sla = SlaPolicy(first_response_s=3600, next_update_s=7200, resolution_s=86400, escalation_tiers_s=[1800])
    s = Scored(value="en", confidence=0.9)
    items = []
    for i in range(n):
        opened = now - timedelta(seconds=i * 7)
        mention = Mention(
            platform="x",
            id=f"bench{i}",
            author=Author(id=f"u{i}", handle=f"flyer{i}", followers=i * 13),
            text=f"@SkylarkAir bag {i} still missing after the flight, file ref LHR{i:05d}",
            created_at=opened,
            lang="en",
        )
        tags = Tags(
            intent=Scored(value="complaint", confidence=0.8),
            actionable=Scored(value="yes", confidence=0.8),
            department=Scored(value=department, confidence=0.8),
            sentiment=Scored(value="negative", confidence=0.7),
            urgency=Scored(value="none", confidence=0.6),
            language=s,
        )
        case = Case(
            id=case_id_for(mention.key),
            mention_key=mention.key,
            customer_key=mention.customer_key,
            platform="x",
            author=mention.author,
            department=department,
            tags=tags,
            sla=sla,
            opened_at=opened,
            first_response_due=opened + timedelta(seconds=sla.first_response_s),
            resolution_due=opened + timedelta(seconds=sla.resolution_s),
            clock=clocks.first_clock(sla, opened),
        )
        item = deps.store.case_item(case, summary=mention.text)
        items.append(
            item if row_copies else {k: v for k, v in item.items() if k not in deps.store.row_copies(case, "")}
        )
        items.append(deps.store.mention_item(mention, tags, case.id, 30))
    for start in range(0, len(items), 25):
        deps.store.ddb.batch_write_item(
            RequestItems={deps.store.table: [{"PutRequest": {"Item": it}} for it in items[start : start + 25]]}
        )


def _render_ms(url: str, token_body: dict[str, Any], n: int) -> float | None:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    profile = tempfile.mkdtemp(prefix="bench-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1280,800",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        driver.get(url + "?bench#/sign-in")
        driver.execute_script("sessionStorage.setItem('socialcare.session', arguments[0])", json.dumps(token_body))
        times = []
        for i in range(3):
            driver.get(url + f"?bench={i}#/inbox/baggage")
            WebDriverWait(driver, 30).until(
                lambda d: d.execute_script("return document.getElementById('main').dataset.ready") == "inbox"
            )
            rows = driver.execute_script("return document.querySelectorAll('#inbox-rows tr').length")
            assert rows == min(100, n), rows
            times.append(driver.execute_script("return Number(document.getElementById('main').dataset.renderedAt)"))
        if n > 100:  # "show 100 more" chains the next page on (after=): 200 rows, none twice, still in order
            driver.find_element("id", "inbox-more").click()
            WebDriverWait(driver, 30).until(
                lambda d: d.execute_script("return document.querySelectorAll('#inbox-rows tr').length") == min(200, n)
            )
            ids = driver.execute_script(
                "return [...document.querySelectorAll('#inbox-rows tr')].map(r => r.dataset.case)"
            )
            assert len(set(ids)) == len(ids), "a case shown twice"
        return statistics.median(times)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def next_page(url: str, token: str) -> str:
    get = urllib.request.Request(  # noqa: S310 - loopback
        url + "api/departments/baggage/queue?limit=100",
        headers={"Authorization": f"Bearer {token}"},
    )
    return str(json.loads(urllib.request.urlopen(get, timeout=60).read())["next"] or "")  # noqa: S310 - loopback


def local_server(prefix: str) -> Any:
    """A started `local up` with its own state file: one running in another terminal is left alone."""
    from socialcare.local.server import LocalServer

    os.environ["SOCIALCARE_LOCAL_STATE"] = str(Path(tempfile.mkdtemp(prefix=prefix)) / "state.json")
    server = LocalServer(feed_samples=False)
    server.start()
    return server


def run(cases: int = 1000, requests: int = 40) -> dict[str, Any]:
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from socialcare.assembly import default_deps

    size, files = first_page_bytes()
    server = local_server("bench-console-")
    try:
        deps = default_deps()
        _seed(deps, "baggage", cases)
        url = server.state()["console_url"]
        req = urllib.request.Request(  # noqa: S310 - loopback
            url + "local/sign-in",
            method="POST",
            data=json.dumps({"agent": "bench", "departments": ["baggage"]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        signed = json.loads(urllib.request.urlopen(req, timeout=10).read())  # noqa: S310 - loopback
        calls: Counter[str] = Counter()

        def count(model: Any, params: dict[str, Any], **_: Any) -> None:
            if threading.current_thread().name == "local-scheduler":  # the stack's own polling, not the inbox
                return
            calls[model.name + (f"({params['IndexName']})" if params.get("IndexName") else "")] += 1

        deps.store.ddb.meta.events.register("provide-client-params.dynamodb.*", count)
        cpu: list[float] = []

        def timed(query: str, n: int, expect: int) -> list[float]:
            out = []
            for i in range(n + 3):
                get = urllib.request.Request(  # noqa: S310 - loopback
                    url + f"api/departments/baggage/queue?{query}",
                    headers={"Authorization": f"Bearer {signed['token']}"},
                )
                started, used = time.perf_counter(), time.process_time()
                body = json.loads(urllib.request.urlopen(get, timeout=60).read())  # noqa: S310 - loopback
                if i >= 3:  # warm-up: the first calls import the handler
                    out.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - used) * 1000)
                assert len(body["cases"]) == expect, len(body["cases"])
            return sorted(out)

        calls.clear()
        latencies = timed("limit=100", requests, min(100, cases))
        per_read = {k: round(v / (requests + 3), 2) for k, v in calls.items()}
        # CPU this process spent per request (client, console server, API function and moto all run in
        # it): what the request costs, whatever else the machine is doing.
        cpu_ms = statistics.median(cpu)
        second = (
            timed(f"limit=100&after={next_page(url, signed['token'])}", 5, min(100, cases - 100))
            if cases > 100
            else [0.0]
        )
        filtered = timed("limit=100&unclaimed=true", requests, min(100, cases))
        whole = timed("limit=1000", 5, min(1000, cases))
        render = _render_ms(url, {"token": signed["token"], "agent": "bench", "groups": ["baggage"]}, cases)
    finally:
        server.stop()

    def p95(xs: list[float]) -> float:
        return round(xs[max(0, int(round(0.95 * len(xs))) - 1)], 1)

    result = {
        "cases": cases,
        "api_p50_ms": round(statistics.median(latencies), 1),
        "api_p95_ms": p95(latencies),
        "api_cpu_p50_ms": round(cpu_ms, 1),
        "second_page_p50_ms": round(statistics.median(second), 1),
        "load_average": round(os.getloadavg()[0], 1),
        "filtered_p95_ms": p95(filtered),
        "all_1000_p50_ms": round(statistics.median(whole), 1),
        "dynamodb_calls_per_inbox_read": per_read,
        "scans": sum(v for k, v in calls.items() if k.startswith("Scan")),
        "first_render_ms": None if render is None else round(render, 1),
        "first_page_bytes": size,
        "first_page_files": files,
    }
    print(
        f"inbox of {cases} open cases via the console server, the page's request (100 nearest due): "
        f"p50 {result['api_p50_ms']} ms, p95 {result['api_p95_ms']} ms (target < 200 ms) over {requests} requests"
    )
    print(
        f"  CPU per request (this process: client, server, function, moto) p50 {result['api_cpu_p50_ms']} ms; "
        f"load average {result['load_average']}; the next page (after=) p50 {result['second_page_p50_ms']} ms"
    )
    print(
        f"  with a server-side filter (unclaimed): p95 {result['filtered_p95_ms']} ms; all {cases} in one "
        f"response: p50 {result['all_1000_p50_ms']} ms"
    )
    print(f"DynamoDB calls per inbox read: {json.dumps(per_read)}; scans: {result['scans']} (target 0)")
    if render is None:
        print("first render: not measured - /usr/bin/chromium and chromedriver missing (make browser-deps)")
    else:
        print(
            f"first render in headless Chromium (navigation to the first {min(100, cases)} rows, median of 3): "
            f"{result['first_render_ms']} ms (target < 1000 ms)"
        )
    print(f"first page assets: {size:,} bytes uncompressed in {len(files)} files (target < 300 KB): {', '.join(files)}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=40)
    a = parser.parse_args()
    run(a.cases, a.requests)
