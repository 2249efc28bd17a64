"""risk_signals on one attribute set: automation, emulators, tampering, timezones."""

from __future__ import annotations

from tests.device.helpers import IPHONE, LAPTOP, vary
from tianwang.device import normalise_attrs, risk_signals


def signals(raw: dict, **kw) -> dict:
    return risk_signals(normalise_attrs(raw), **kw)


def test_an_honest_laptop_and_iphone_raise_nothing():
    for raw in (LAPTOP, IPHONE):
        s = signals(raw, expected_timezone="Asia/Shanghai")
        assert not any(s[k] for k in ("automation", "headless", "emulator", "tampered", "timezone_mismatch"))
        assert s["tz_offset_minutes"] == 480


def test_webdriver_or_headless_is_automation():
    s = signals(vary(LAPTOP, automation={"webdriver": True}))
    assert s["automation"] and not s["headless"]
    headless = vary(LAPTOP, user_agent=LAPTOP["user_agent"].replace("Chrome/", "HeadlessChrome/"))
    s = signals(headless)
    assert s["automation"] and s["headless"]


def test_two_soft_hints_are_automation_one_is_not():
    assert not signals(vary(LAPTOP, automation={"no_plugins": True}))["automation"]
    s = signals(vary(LAPTOP, automation={"no_plugins": True, "window_outer_zero": True}))
    assert s["automation"] and s["automation_hints"] == 2


def test_swiftshader_or_a_mobile_ua_on_desktop_hardware_without_touch_is_an_emulator():
    gl = {"vendor": "Google Inc. (Google)", "renderer": "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)))"}
    assert signals(vary(LAPTOP, webgl=gl))["emulator"]
    assert signals(vary(IPHONE, webgl={"renderer": "Android Emulator OpenGL ES Translator"}))["emulator"]
    assert signals(vary(IPHONE, hardware_concurrency=16, touch_points=0, touch=False))["emulator"]
    assert not signals(vary(IPHONE, hardware_concurrency=16))["emulator"]


def test_a_windows_ua_on_a_mac_or_an_arm_linux_is_tampered():
    assert signals(vary(LAPTOP, platform="MacIntel"))["tampered"]
    assert signals(vary(LAPTOP, platform="Linux armv8l"))["tampered"]
    assert signals(vary(LAPTOP, ua_ch={"platform": "macOS"}))["tampered"]


def test_an_iphone_ua_without_touch_is_tampered():
    assert signals(vary(IPHONE, touch_points=0))["tampered"]


def test_a_ua_version_other_than_the_client_hints_is_tampered():
    s = signals(vary(LAPTOP, ua_ch={"brands": [["Not A(Brand", "8"], ["Chromium", "120"], ["Google Chrome", "120"]]}))
    assert s["tampered"]


def test_timezone_mismatch_by_zone_or_offset_but_not_by_alias():
    assert signals(vary(LAPTOP, timezone="Asia/Tokyo", tz_offset=-540), expected_timezone="Asia/Shanghai")["timezone_mismatch"]
    assert signals(vary(LAPTOP, tz_offset=0), expected_timezone="Asia/Shanghai")["timezone_mismatch"]
    assert not signals(vary(LAPTOP, timezone="Asia/Chongqing"), expected_timezone="Asia/Shanghai")["timezone_mismatch"]
    assert not signals(vary(LAPTOP, timezone="Asia/Tokyo"))["timezone_mismatch"]  # nothing expected
