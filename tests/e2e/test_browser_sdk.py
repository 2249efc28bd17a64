"""The SDK in a real headless Chromium (Debian's chromium + chromedriver, driven by selenium).

A demo application page (`/demo/apply`) loads `/sdk/tianwang.js` from a real tianwang server.
A person's session types into the form and submits it: the captured events arrive and are
named by the collection rules; a reload is the same device (its token); a fresh profile with
another font list is still the same device (its attributes); and the WebDriver-driven browser
is flagged as automation, which the application's decision reads.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
import tempfile
import time
from pathlib import Path

import pytest

from tests.factories import apply_event
from tests.serving import DEMO_KEY, Client, Server, open_runtime
from tianwang.api.collect import SDK_FILE
from tianwang.store import events as event_repo

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER) and SDK_FILE.exists()),
    reason="Debian's chromium and chromium-driver and the built SDK are needed (make browser sdk)",
)


def browser(profile: Path, *, env: dict | None = None):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,900"):
        options.add_argument(flag)
    service = Service(executable_path=DRIVER, env={**os.environ, **(env or {})})
    return webdriver.Chrome(service=service, options=options)


@contextmanager
def session(profile: Path, *, env: dict | None = None):
    driver = browser(profile, env=env)
    try:
        yield driver
    finally:
        driver.quit()


def behavior_events(rt) -> list[dict]:
    rt.writer.flush()
    return [r["payload"] for r in event_repo.iter_events(rt.db) if r["scene"] == "behavior"]


def wait_for(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("waited in vain")


def fill_and_submit(driver) -> str:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "name").send_keys("张三")
    driver.find_element(By.ID, "id_number").send_keys("11010519900307001X")
    driver.find_element(By.ID, "phone").send_keys("13811112222")
    driver.find_element(By.ID, "amount").send_keys("20000")
    driver.find_element(By.ID, "password").send_keys("secret-pin")
    driver.find_element(By.ID, "send").click()
    return wait_for(lambda: driver.find_element(By.ID, "status").get_attribute("data-device"))


@pytest.fixture
def served(tmp_path):
    rt = open_runtime(tmp_path / "data", None)
    with Server(rt) as server, Client(server.url, DEMO_KEY) as api:
        yield rt, server, api
    rt.close()


FONT_ADDED = """<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><include ignore_missing="yes">/etc/fonts/fonts.conf</include>
<alias binding="strong"><family>WenQuanYi Micro Hei</family><prefer><family>DejaVu Serif</family></prefer></alias>
<cachedir>CACHE</cachedir></fontconfig>"""


def test_a_browser_session_is_captured_recognised_and_flagged(served, tmp_path):
    rt, server, api = served
    token = api.post("/v1/collect/customer-token", json={"customer_id": "c-e2e"}).json()["token"]
    page = f"{server.url}/demo/apply?customer=c-e2e&customer_token={token}"
    driver = browser(tmp_path / "profile-a")
    try:
        driver.get(page)
        device_id = fill_and_submit(driver)
        assert device_id.startswith("D"), device_id
        captured = wait_for(lambda: [e for e in behavior_events(rt) if e.get("virtual") == "apply_submit"])
        events = behavior_events(rt)
        kinds = {e["event_type"] for e in events}
        assert {"page_view", "input", "submit", "click", "behavior"} <= kinds, kinds
        id_field = [e for e in events if e.get("virtual") == "apply_id_number"]
        assert id_field and id_field[0]["length"] == 18 and id_field[0]["pasted"] is False, id_field
        assert captured[0]["duration_ms"] > 0 and captured[0]["device_id"] == device_id
        assert {e["customer_id"] for e in events} == {"c-e2e"}
        every = str(events)
        for secret in ("11010519900307001X", "13811112222", "secret-pin", "张三"):
            assert secret not in every  # values are never sent; the password field not even its length
        assert not [e for e in events if "password" in (e.get("selector") or "")]

        # A reload: the SDK sends the token the server gave it; the same device.
        driver.get(page)
        assert fill_and_submit(driver) == device_id

        # The WebDriver-driven session is automation, and an application from it is rejected.
        fields = rt.live.device_fields("demo", device_id, {"ts": int(time.time() * 1000), "customer_id": "c-e2e"})
        assert fields["device_automation"] is True, fields
        occurred = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        d = api.post("/v1/events", json=apply_event("e2e-apply", customer="c-e2e", device_id=device_id,
                                                     occurred_at=occurred)).json()
        assert d["outcome"] == "reject" and "APPLY_AUTOMATED_BROWSER" in {r["code"] for r in d["reasons"]}, d
    finally:
        driver.quit()

    # A font installed since (fontconfig here): the same profile is the same device, and the
    # registry's history of the device says its font list changed.
    fonts = tmp_path / "fonts.conf"
    fonts.write_text(FONT_ADDED.replace("CACHE", tempfile.mkdtemp()))
    with session(tmp_path / "profile-a", env={"FONTCONFIG_FILE": str(fonts)}) as driver:
        driver.get(page)
        assert fill_and_submit(driver) == device_id
    changes = rt.live.devices("demo").history(device_id)["changes"]
    assert any("fonts" in keys for _, keys in changes), changes

    # A fresh profile (no token, no storage id) of the same customer, with the new font: the
    # same device, by its attributes alone.
    with session(tmp_path / "profile-b", env={"FONTCONFIG_FILE": str(fonts)}) as driver:
        driver.get(page)
        assert fill_and_submit(driver) == device_id
