"""Risk signals read from one normalised attribute set alone (`risk_signals`).

Owns what an attribute set says about itself: automation (webdriver, headless), an emulator or
virtual machine, a user agent that contradicts the rest of the set, a timezone other than the
expected one. No history: the registry adds what needs it (forged or replayed tokens,
customers per device).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

_HINTS = ("no_plugins", "no_languages", "chrome_missing", "permissions_inconsistent", "window_outer_zero")
_VIRTUAL = re.compile(r"swiftshader|llvmpipe|virtualbox|vmware|parallels|android emulator|genymotion|bluestacks|"
                      r"mesa offscreen", re.I)
_GREASE = re.compile(r"not.?a.?brand", re.I)
_UA_VERSION = (  # (UA pattern, brand names carrying the same major version)
    (re.compile(r"Edg(?:A|iOS)?/(\d+)"), ("Microsoft Edge",)),
    (re.compile(r"(?:Chrome|CriOS)/(\d+)"), ("Google Chrome", "Chromium")),
)
# which navigator.platform / UA-CH platform families each UA family may run on
_FITS = {"windows": {"windows"}, "mac": {"mac"}, "ios": {"ios"}, "android": {"android", "linux-arm", "linux"},
         "linux": {"linux"}, "chromeos": {"chromeos", "linux", "linux-arm"}}


def ua_family(ua: str | None) -> str | None:
    if not ua:
        return None
    for needle, family in (("iPhone", "ios"), ("iPad", "ios"), ("iPod", "ios"), ("Android", "android"),
                           ("Windows", "windows"), ("Macintosh", "mac"), ("CrOS", "chromeos"), ("Linux", "linux"),
                           ("X11", "linux")):
        if needle in ua:
            return family
    return None


def platform_family(p: str | None) -> str | None:
    """navigator.platform or the UA-CH platform, as a family."""
    p = (p or "").strip().lower()
    if not p:
        return None
    if p.startswith("win"):
        return "windows"
    if p.startswith("mac"):
        return "mac"
    if p in ("iphone", "ipad", "ipod", "ios"):
        return "ios"
    if p == "android":
        return "android"
    if p in ("chrome os", "chromium os", "cros"):
        return "chromeos"
    if p.startswith("linux"):
        return "linux-arm" if re.search(r"arm|aarch", p) else "linux"
    return None


def _tampered(a: dict[str, Any]) -> bool:
    ua = a.get("user_agent") or ""
    fam = ua_family(ua)
    ch = a.get("ua_ch") or {}
    for plat in (a.get("platform"), ch.get("platform")):
        pf = platform_family(plat)
        if fam and pf and pf not in _FITS[fam]:
            return True
    if fam == "ios" and "iPhone" in ua and a.get("touch_points") == 0:
        return True
    brands = {name: v for name, v in ch.get("brands") or [] if not _GREASE.search(name)}
    for pattern, names in _UA_VERSION:
        m = pattern.search(ua)
        if m:
            versions = [brands[n].split(".")[0] for n in names if n in brands]
            return bool(versions) and m.group(1) not in versions
    return False


def is_mobile(a: dict[str, Any]) -> bool:
    ua = a.get("user_agent") or ""
    ipad = platform_family(a.get("platform")) == "mac" and (a.get("touch_points") or 0) > 1  # iPadOS, desktop UA
    return bool((a.get("ua_ch") or {}).get("mobile")) or "Mobile" in ua or ua_family(ua) in ("ios", "android") or ipad


@lru_cache(maxsize=1024)
def zone_offsets(name: str) -> frozenset[int] | None:
    """The UTC offsets (minutes east) a zone uses over a year, or None for a zone we do not know."""
    try:
        zone = ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return None
    return frozenset(int(datetime(2025, m, 15, tzinfo=timezone.utc).astimezone(zone).utcoffset().total_seconds() // 60)
                     for m in (1, 4, 7, 10))


def _tz_mismatch(a: dict[str, Any], expected: str) -> bool:
    tz, offset = a.get("timezone"), a.get("tz_offset")
    want = zone_offsets(expected)
    if tz and tz != expected:
        have = zone_offsets(tz)
        if want is None or have != want:  # an alias (Asia/Chongqing for Asia/Shanghai) is no mismatch
            return True
    return offset is not None and want is not None and -offset not in want


def risk_signals(attrs: dict[str, Any], *, expected_timezone: str | None = None) -> dict[str, Any]:
    """Booleans and small numbers about one normalised attribute set (see the module docstring).

    `tz_offset_minutes` is the device's UTC offset in minutes east (480 for UTC+8, the SDK's
    getTimezoneOffset negated), None when not sent.
    """
    auto = attrs.get("automation") or {}
    ua = attrs.get("user_agent") or ""
    headless = bool(auto.get("headless_ua")) or "Headless" in ua or "PhantomJS" in ua
    hints = sum(bool(auto.get(k)) for k in _HINTS)
    gl = attrs.get("webgl") or {}
    virtual = any(_VIRTUAL.search(gl.get(k) or "") for k in ("vendor", "renderer"))
    hc = attrs.get("hardware_concurrency")
    no_touch = not attrs.get("touch") and not attrs.get("touch_points")
    desktop_class = is_mobile(attrs) and no_touch and hc is not None and hc > 8
    offset = attrs.get("tz_offset")
    return {
        "automation": bool(auto.get("webdriver")) or headless or hints >= 2,
        "automation_hints": hints,
        "headless": headless,
        "emulator": virtual or desktop_class,
        "tampered": _tampered(attrs),
        "timezone_mismatch": bool(expected_timezone) and _tz_mismatch(attrs, expected_timezone),
        "tz_offset_minutes": None if offset is None else -offset,
    }
