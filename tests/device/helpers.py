"""Attribute sets for the device tests: a Windows laptop, an iPhone, variations of them."""

from __future__ import annotations

import copy

LAPTOP = {
    "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36",
    "ua_ch": {"brands": [["Not A(Brand", "8"], ["Chromium", "132"], ["Google Chrome", "132"]], "platform": "Windows",
              "platform_version": "10", "mobile": False, "model": ""},
    "platform": "Win32", "vendor": "Google Inc.", "browser": {"name": "Chrome", "version": 132},
    "os": {"name": "Windows", "version": "10"}, "languages": ["zh-CN", "zh"], "timezone": "Asia/Shanghai",
    "tz_offset": -480, "screen": {"w": 1920, "h": 1080, "avail_w": 1920, "avail_h": 1040, "depth": 24, "dpr": 1.25},
    "hardware_concurrency": 8, "device_memory": 8, "touch_points": 0, "touch": False, "canvas": "a1b2c3d4e5f60718",
    "webgl": {"vendor": "Google Inc. (NVIDIA)", "renderer": "ANGLE (NVIDIA GeForce GTX 1650 417)", "hash": "99aa77bb"},
    "audio": "5e5e5e5e", "fonts": ["Arial", "Calibri", "Microsoft YaHei", "SimSun", "Segoe UI", "Fira Code", "Lato"],
    "plugins": ["PDF Viewer", "Chrome PDF Viewer"], "storage_id": "0b5a1f4e-0000-4000-8000-000000000001", "cookies": True,
    "automation": {"webdriver": False, "headless_ua": False, "no_plugins": False, "no_languages": False,
                   "chrome_missing": False, "permissions_inconsistent": False, "window_outer_zero": False},
}

IPHONE = {
    "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                  "Version/17.4 Mobile/15E148 Safari/604.1",
    "ua_ch": None, "platform": "iPhone", "vendor": "Apple Computer, Inc.", "browser": {"name": "Safari", "version": 17},
    "os": {"name": "iOS", "version": "17.4"}, "languages": ["zh-CN"], "timezone": "Asia/Shanghai", "tz_offset": -480,
    "screen": {"w": 390, "h": 844, "avail_w": 390, "avail_h": 844, "depth": 24, "dpr": 3.0},
    "hardware_concurrency": 6, "device_memory": None, "touch_points": 5, "touch": True, "canvas": "c0ffee00c0ffee00",
    "webgl": {"vendor": "Apple Inc.", "renderer": "Apple GPU", "hash": "a99le"}, "audio": "ab12ab12",
    "fonts": ["Helvetica", "PingFang SC", "Arial"], "plugins": [], "storage_id": "iphone-storage-1", "cookies": True,
    "automation": None,
}


def vary(base: dict, **changes) -> dict:
    """A deep copy of `base` with top-level keys replaced (a dict value is merged into the old one)."""
    out = copy.deepcopy(base)
    for k, v in changes.items():
        out[k] = {**out[k], **v} if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out
