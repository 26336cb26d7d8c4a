"""The web console in a real browser against a real `socialcare local up`.

One scenario, in the order a working day has it: a baggage agent finds a new case, claims, replies and
transfers it; the customer-care agent sees it arrive with its history and resolves it; an ops person
starts a quiet period, sees a scheduled post held and releases it; an incident's update reaches every
linked customer. Any error in the page's console fails the test. With SOCIALCARE_SCREENSHOTS=DIR each
page is also saved as a PNG (`make console-screenshots` writes docs/console/).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from socialcare.models import case_id_for

from tests.builders import mention
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SOCIALCARE_SCREENSHOTS")


def no_console_errors(driver: Any, expected: str | None = None) -> None:
    """Fails on any error in the page's console; `expected` lets one named answer through (Chromium logs
    every 4xx response, such as the conflict a test provokes on purpose)."""
    errors = [
        e for e in driver.get_log("browser") if e["level"] == "SEVERE" and not (expected and expected in e["message"])
    ]
    assert not errors, errors


def shot(driver: Any, name: str) -> None:
    """Each page the docs show is first checked for a value it failed to render: JavaScript writes a
    missing one as the word "null" or "undefined" (Element.append(null) does), and no page means it."""
    words = driver.find_element(By.TAG_NAME, "body").text.split()
    stray = [w for w in words if w in {"null", "undefined", "NaN"}] + (
        ["[object Object]"] if "[object" in words else []
    )
    assert not stray, f"{name}: the page shows {stray}"
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(SHOTS) / f"{name}.png"))


def ready(driver: Any, prefix: str, timeout: float = 30) -> None:
    WebDriverWait(driver, timeout).until(
        lambda d: (d.find_element(By.ID, "main").get_attribute("data-ready") or "").startswith(prefix)
    )


def sign_in(driver: Any, url: str, name: str, departments: list[str], ops: bool = False) -> None:
    driver.get(url)
    driver.execute_script("sessionStorage.clear()")
    driver.get(url + f"?as={name}#/sign-in")  # a full load, not a hash change
    ready(driver, "sign-in")
    driver.find_element(By.ID, "signin-name").send_keys(name)
    for dept in departments:
        driver.find_element(By.CSS_SELECTOR, f"input[name=department][value={dept}]").click()
    if ops:
        driver.find_element(By.ID, "signin-ops").click()
    driver.find_element(By.ID, "signin-submit").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "sign-out"))


def submit(driver: Any, form_id: str, fields: dict[str, str] | None = None) -> None:
    form = driver.find_element(By.ID, form_id)
    for field_id, value in (fields or {}).items():
        el = driver.find_element(By.ID, field_id)
        if el.tag_name == "select":
            Select(el).select_by_value(value)
        else:
            el.clear()
            el.send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def open_case(driver: Any, case_id: str) -> None:
    """Clicks the case's link; the inbox re-renders on every poll, so a found link may be replaced."""
    WebDriverWait(driver, 10, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: d.find_element(By.LINK_TEXT, case_id).click() or True
    )
    ready(driver, f"case:{case_id}")


def act(driver: Any, form_id: str, fields: dict[str, str] | None, done: Any, timeout: float = 60) -> None:
    """Submits an action form until `done` holds. "Busy" (503: the case kept changing or the table was busy)
    is asked again: the page keeps the request id, so a repeat is the same request."""

    def settled(d: Any) -> bool:
        if done(d):
            return True
        if d.find_element(By.ID, "alert").text.startswith("Busy"):
            d.execute_script("document.getElementById('alert').textContent = ''")
            submit(d, form_id, fields)
        return False

    submit(driver, form_id, fields)
    WebDriverWait(driver, timeout, poll_frequency=1, ignored_exceptions=[StaleElementReferenceException]).until(settled)


def status_text(driver: Any) -> str:
    return driver.find_element(By.ID, "status").text


def send(stack: dict[str, Any], text: str, **kw: Any) -> str:
    sqs = boto3.client(
        "sqs",
        endpoint_url=stack["endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    m = mention(text, **kw)
    sqs.send_message(QueueUrl=stack["outputs"]["MentionsQueueUrl"], MessageBody=m.model_dump_json())
    return case_id_for(m.key)


def test_a_case_moves_between_departments_and_ops_work_in_the_browser(stack, browser):
    url = stack["console_url"]
    driver = browser

    # Given a baggage agent signed in, looking at the baggage inbox
    sign_in(driver, url, "maria", ["baggage"])
    ready(driver, "inbox")
    no_console_errors(driver)
    # When a customer writes (with markup in the text) the case appears without a reload
    case_id = send(stack, "@SkylarkAir my suitcase is lost <script>alert(1)</script> and the baggage desk is closed")
    row_text = WebDriverWait(driver, 60, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: (rows := d.find_elements(By.CSS_SELECTOR, f"tr[data-case='{case_id}']")) and rows[0].text
    )
    assert "<script>alert(1)</script>" in row_text  # shown as text, never run
    assert "new" in row_text and "unclaimed" in row_text
    shot(driver, "inbox")
    # And she opens it, claims it, replies and transfers it to customer care with a note
    open_case(driver, case_id)
    submit(driver, "act-claim")
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "case-owner").text == "maria")
    submit(driver, "act-reply", {"reply-text": "Sorry about your bag - I'm on it."})
    WebDriverWait(driver, 30).until(lambda d: "reply done" in status_text(d))
    shot(driver, "case")
    submit(driver, "act-transfer", {"transfer-to": "customer_care", "transfer-note": "Needs a goodwill gesture"})
    WebDriverWait(driver, 30).until(
        lambda d: (
            "transferred to customer_care" in status_text(d) or d.find_elements(By.CSS_SELECTOR, "#alert:not(:empty)")
        )
    )
    assert "transferred to customer_care" in status_text(driver), driver.find_element(By.ID, "alert").text
    ready(driver, "inbox")
    assert not driver.find_elements(By.CSS_SELECTOR, f"tr[data-case='{case_id}']")
    no_console_errors(driver)

    # Then the customer-care agent sees it arrive, with its history, and resolves it
    sign_in(driver, url, "lena", ["customer_care"])
    ready(driver, "inbox")
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, f"tr[data-case='{case_id}']"))
    # (the server's filters: a transferred case is unclaimed again, and not "mine")
    driver.find_element(By.ID, "filter-mine").click()
    WebDriverWait(driver, 30).until(lambda d: not d.find_elements(By.CSS_SELECTOR, f"tr[data-case='{case_id}']"))
    driver.find_element(By.ID, "filter-mine").click()
    driver.find_element(By.ID, "filter-unclaimed").click()
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, f"tr[data-case='{case_id}']"))
    open_case(driver, case_id)
    history = driver.find_element(By.ID, "case-history").text
    assert "maria" in history and "claimed" in history and "replied" in history
    assert "Needs a goodwill gesture" in history
    assert "Sorry about your bag" in driver.find_element(By.ID, "main").text
    driver.find_element(By.ID, "label-yes").click()
    WebDriverWait(driver, 30).until(lambda d: "label done" in status_text(d))
    submit(driver, "act-resolve", {"resolve-note": "Voucher sent, bag delivered"})
    WebDriverWait(driver, 30).until(lambda d: "resolve done" in status_text(d))
    assert driver.find_element(By.ID, "case-status").text == "resolved"
    no_console_errors(driver)
    # And the baggage agent no longer reaches it (the server refuses, not only the page)
    # (checked through the API in tests/integration/console)

    # Given an incident: three customers with the same broken app login
    linked = [
        send(stack, f"@SkylarkAir the app login is broken again, cannot log in to check in {n}", handle=f"flyer{n}")
        for n in range(3)
    ]
    # When an ops person opens the incidents page
    sign_in(driver, url, "olu", [], ops=True)

    def incident_listed() -> bool:
        driver.get(url + "#/incidents")
        driver.refresh()
        ready(driver, "incidents")
        return bool(driver.find_elements(By.CSS_SELECTOR, "section[id^=incident-]"))

    wait_for(incident_listed, timeout=90, interval=2)
    card = driver.find_element(By.CSS_SELECTOR, "section[id^=incident-]")
    incident_id = card.get_attribute("id").removeprefix("incident-")
    WebDriverWait(driver, 30).until(lambda d: all(c in card.text for c in linked))
    shot(driver, "incidents")
    # And sends one update to every linked customer
    submit(
        driver,
        f"resolve-form-{incident_id}",
        {f"update-{incident_id}": "The app login is fixed - sorry for the trouble."},
    )
    WebDriverWait(driver, 60).until(lambda d: "resolved: update sent to 3 of 3 customers" in status_text(d))
    # Then each linked case's conversation carries the update
    for cid in linked:
        driver.get(url + f"#/case/{cid}")
        ready(driver, f"case:{cid}")
        assert "The app login is fixed - sorry for the trouble." in driver.find_element(By.ID, "main").text
    no_console_errors(driver)

    # Given a quiet period started by ops for the UK
    driver.get(url + "#/quiet")
    ready(driver, "quiet")
    submit(driver, "quiet-start", {"quiet-region": "uk", "quiet-minutes": "60", "quiet-reason": "Storm response"})
    WebDriverWait(driver, 30).until(lambda d: "started for uk" in status_text(d))
    # When a promotional post for the UK falls due, it is held, not published
    ready(driver, "quiet")
    submit(driver, "post-schedule", {"post-text": "Fly to Lisbon from 49!", "post-region": "uk", "post-minutes": "0"})
    WebDriverWait(driver, 30).until(lambda d: "scheduled" in status_text(d))

    def held() -> bool:
        driver.refresh()
        ready(driver, "quiet")
        return "Fly to Lisbon from 49!" in driver.find_element(By.ID, "main").text and bool(
            driver.find_elements(By.CSS_SELECTOR, "#held button")
        )

    wait_for(held, timeout=60, interval=2)
    shot(driver, "quiet")
    # Then ops releases it
    driver.find_element(By.CSS_SELECTOR, "#held button").click()
    WebDriverWait(driver, 30).until(lambda d: "1 held item(s) released" in status_text(d))
    assert driver.find_elements(By.ID, "held-empty")
    no_console_errors(driver)

    # And the ops overview shows the departments, parity and dead letters
    driver.get(url + "#/ops")
    ready(driver, "ops")
    assert "customer_care" in driver.find_element(By.ID, "ops-departments").text
    assert driver.find_element(By.ID, "ops-dlq").text
    shot(driver, "ops")
    no_console_errors(driver)

    # And the inbox is usable at phone width
    sign_in(driver, url, "maria", ["baggage", "customer_care"])
    driver.set_window_size(390, 844)
    ready(driver, "inbox")
    shot(driver, "inbox-phone")
    driver.set_window_size(1280, 800)
    driver.execute_script("sessionStorage.clear()")
    driver.get(url + "?signed-out#/sign-in")
    ready(driver, "sign-in")
    shot(driver, "sign-in")
    no_console_errors(driver)


def test_two_agents_on_one_case_see_a_conflict_not_an_overwrite(stack, browser):
    url, driver = stack["console_url"], browser
    case_id = send(stack, "@SkylarkAir my bag never came off the belt at gate 12, tag SK123456", handle="belt12")
    # Given maria has the new case open in her tab
    sign_in(driver, url, "maria", ["baggage"])
    ready(driver, "inbox")
    WebDriverWait(driver, 60, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, f"tr[data-case='{case_id}']")
    )
    open_case(driver, case_id)
    maria_tab = driver.current_window_handle
    # And priya, in a tab of her own (its own session), claims it meanwhile
    driver.switch_to.new_window("tab")
    try:
        sign_in(driver, url, "priya", ["baggage"])
        driver.get(url + f"#/case/{case_id}")
        ready(driver, f"case:{case_id}")
        act(driver, "act-claim", None, lambda d: d.find_element(By.ID, "case-owner").text == "priya")
        no_console_errors(driver)
    finally:
        driver.close()
        driver.switch_to.window(maria_tab)
    # When maria replies from the page she loaded before priya's claim
    submit(driver, "act-reply", {"reply-text": "Hi, Maria here - tracing your bag now."})
    # Then she sees a conflict that names what changed, and her reply is not applied
    alert = WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "alert").text)
    assert alert.startswith("Conflict:") and "changed since you read it" in alert and "owner priya" in alert, alert
    assert "reload it and decide again" in alert and "nothing changed" in alert
    driver.refresh()
    ready(driver, f"case:{case_id}")
    assert driver.find_element(By.ID, "case-owner").text == "priya"
    assert "Maria here" not in driver.find_element(By.ID, "main").text
    no_console_errors(driver, expected="status of 409")
