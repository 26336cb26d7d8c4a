"""A real `socialcare local up` in another process and Debian's headless Chromium driving its console.

Needs /usr/bin/chromium and /usr/bin/chromedriver (`make browser-deps` installs them with apt-get) and
selenium (the `browser` extra). No browser is ever downloaded: Selenium is given both paths, so its
driver manager has nothing to look up.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("SOCIALCARE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SOCIALCARE_CHROMEDRIVER", "/usr/bin/chromedriver")
RUNNER = "import sys; from socialcare.cli import main; sys.exit(main())"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            pytest.fail(f"{path} is missing: run `make browser-deps` (apt-get install chromium chromium-driver)")
    tmp = tmp_path_factory.mktemp("local")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(SOCIALCARE_LOCAL_STATE=str(tmp / "state.json"), POWERTOOLS_LOG_LEVEL="WARNING")
    log = (tmp / "up.log").open("w")
    up = subprocess.Popen(
        [sys.executable, "-c", RUNNER, "local", "up", "--no-samples"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        state = wait_for(
            lambda: (tmp / "state.json").exists() and json.loads((tmp / "state.json").read_text()), timeout=120
        )
        printed = wait_for(
            lambda: [ln for ln in (tmp / "up.log").read_text().splitlines() if "console" in ln], timeout=10
        )
        assert state["console_url"] in printed[0]
        yield {**state, "env": env, "log": tmp / "up.log"}
    finally:
        up.terminate()
        try:
            up.wait(timeout=30)
        except subprocess.TimeoutExpired:
            up.kill()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="socialcare-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
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
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
