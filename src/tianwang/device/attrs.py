"""The device attribute set the browser SDK sends, validated and bounded (`normalise_attrs`).

Owns the contract of the attribute set and `DeviceError`. Every known key comes back, `None`
when missing or null; a known key of the wrong type, or a number outside its sane range, is
refused (all such errors at once, each with its path). What is merely too big is bounded, not
refused: strings cut to 512 characters with control characters removed, lists to 200 items,
list items of fonts / plugins / languages to short strings, unknown keys inside known objects
dropped. Unknown top-level keys are kept, the first 16 only, under `extra`, as plain JSON data
at most 3 levels deep (deeper values become `None`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from tianwang.errors import TianwangError

MAX_STR = 512
MAX_LIST = 200
SHORT = 128
MAX_EXTRA = 16
MAX_DEPTH = 3
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

Errors = list[tuple[str, str]]
Check = Callable[[Any, str, Errors], Any]


class DeviceError(TianwangError):
    """An attribute set that is not one: `errors` lists (path, message)."""

    code = "invalid_device"

    def __init__(self, errors: Errors):
        self.errors = list(errors)
        super().__init__("; ".join(f"{p or '(root)'}: {m}" for p, m in self.errors))


def _text(v: str, limit: int) -> str:
    if len(v) <= limit and v.isprintable():  # the common case, at C speed
        return v
    return _CONTROL.sub("", v[: limit * 2])[:limit]


def _str(limit: int = MAX_STR) -> Check:
    def check(v: Any, path: str, errs: Errors) -> Any:
        if isinstance(v, str):
            return _text(v, limit)
        errs.append((path, "must be a string"))

    return check


def _num(lo: float, hi: float, *, integer: bool = False) -> Check:
    def check(v: Any, path: str, errs: Errors) -> Any:
        whole = isinstance(v, int) or (isinstance(v, float) and v.is_integer())
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (integer and not whole):
            errs.append((path, "must be an integer" if integer else "must be a number"))
        elif not lo <= v <= hi:  # NaN fails here too
            errs.append((path, f"out of range [{lo:g}, {hi:g}]"))
        else:
            return int(v) if integer else float(v)

    return check


def _bool(v: Any, path: str, errs: Errors) -> Any:
    if isinstance(v, bool):
        return v
    errs.append((path, "must be true or false"))


def _list(item: Check) -> Check:
    def check(v: Any, path: str, errs: Errors) -> Any:
        if not isinstance(v, list):
            errs.append((path, "must be a list"))
            return None
        return [item(x, f"{path}[{i}]", errs) for i, x in enumerate(v[:MAX_LIST])]

    return check


def _obj(fields: dict[str, Check]) -> Check:
    def check(v: Any, path: str, errs: Errors) -> Any:
        if not isinstance(v, dict):
            errs.append((path, "must be an object"))
            return None
        return {k: (None if v.get(k) is None else c(v[k], f"{path}.{k}", errs)) for k, c in fields.items()}

    return check


def _brand(v: Any, path: str, errs: Errors) -> Any:
    pair = isinstance(v, list) and len(v) == 2
    if pair and isinstance(v[0], str) and isinstance(v[1], (str, int)) and not isinstance(v[1], bool):
        return [_text(v[0], SHORT), _text(str(v[1]), 32)]
    errs.append((path, "must be [name, version]"))


SCHEMA: dict[str, Check] = {
    "user_agent": _str(),
    "ua_ch": _obj({"brands": _list(_brand), "platform": _str(SHORT), "platform_version": _str(SHORT),
                   "mobile": _bool, "model": _str(SHORT)}),
    "platform": _str(SHORT),
    "vendor": _str(SHORT),
    "browser": _obj({"name": _str(SHORT), "version": _num(0, 10_000, integer=True)}),
    "os": _obj({"name": _str(SHORT), "version": _str(SHORT)}),
    "languages": _list(_str(35)),
    "timezone": _str(64),
    "tz_offset": _num(-24 * 60, 24 * 60, integer=True),
    "screen": _obj({"w": _num(0, 20_000, integer=True), "h": _num(0, 20_000, integer=True),
                    "avail_w": _num(0, 20_000, integer=True), "avail_h": _num(0, 20_000, integer=True),
                    "depth": _num(0, 64, integer=True), "dpr": _num(0.05, 20)}),
    "hardware_concurrency": _num(0, 1024, integer=True),
    "device_memory": _num(0, 4096),
    "touch_points": _num(0, 256, integer=True),
    "touch": _bool,
    "canvas": _str(SHORT),
    "webgl": _obj({"vendor": _str(), "renderer": _str(), "hash": _str(SHORT)}),
    "audio": _str(SHORT),
    "fonts": _list(_str(64)),
    "plugins": _list(_str(SHORT)),
    "storage_id": _str(64),
    "cookies": _bool,
    "automation": _obj({k: _bool for k in ("webdriver", "headless_ua", "no_plugins", "no_languages", "chrome_missing",
                                          "permissions_inconsistent", "window_outer_zero")}),
}


def _plain(v: Any, depth: int) -> Any:
    """An unknown value as bounded plain data; anything deeper than MAX_DEPTH or not JSON becomes None."""
    if depth > MAX_DEPTH or v is None or isinstance(v, bool):
        return None if depth > MAX_DEPTH else v
    if isinstance(v, (int, float)):
        return v if math.isfinite(v) and abs(v) < 1e15 else None
    if isinstance(v, str):
        return _text(v, MAX_STR)
    if isinstance(v, list):
        return [_plain(x, depth + 1) for x in v[:MAX_LIST]]
    if isinstance(v, dict):
        return {_text(str(k), 64): _plain(x, depth + 1) for k, x in list(v.items())[:MAX_LIST]}
    return None


def normalise_attrs(raw: Any) -> dict[str, Any]:
    """The attribute set with every known key (None when absent), bounded; DeviceError on garbage."""
    if not isinstance(raw, dict):
        raise DeviceError([("", "must be an object")])
    errs: Errors = []
    out = {k: (None if raw.get(k) is None else check(raw[k], k, errs)) for k, check in SCHEMA.items()}
    if errs:
        raise DeviceError(errs)
    unknown = [k for k in raw if k not in SCHEMA][:MAX_EXTRA]
    out["extra"] = {_text(str(k), 64): _plain(raw[k], 1) for k in unknown}
    return out
