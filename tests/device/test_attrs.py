"""normalise_attrs refuses garbage, bounds what is merely too big, tolerates unknown keys."""

from __future__ import annotations

import pytest

from tests.device.helpers import LAPTOP, vary
from tianwang.device import DeviceError, normalise_attrs
from tianwang.errors import TianwangError


def test_a_good_set_keeps_its_values_and_fills_missing_keys_with_none():
    a = normalise_attrs({"platform": "Win32", "screen": {"w": 1920, "h": 1080}})
    assert a["platform"] == "Win32" and a["screen"]["w"] == 1920 and a["screen"]["dpr"] is None
    assert a["canvas"] is None and a["fonts"] is None and a["extra"] == {}
    assert normalise_attrs(LAPTOP)["fonts"] == LAPTOP["fonts"]


@pytest.mark.parametrize("raw", [None, [], "attrs", 42])
def test_not_an_object_is_refused(raw):
    with pytest.raises(DeviceError) as e:
        normalise_attrs(raw)
    assert isinstance(e.value, TianwangError) and e.value.code == "invalid_device"


def test_wrong_types_on_known_keys_are_refused_each_with_its_path():
    bad = vary(LAPTOP, fonts="Arial", screen={"w": "1920"}, touch=1, browser={"version": 13.5}, tz_offset=99_999,
               ua_ch={"brands": [["Chrome"]]}, hardware_concurrency=True)
    with pytest.raises(DeviceError) as e:
        normalise_attrs(bad)
    paths = {p for p, _ in e.value.errors}
    assert paths == {"fonts", "screen.w", "touch", "browser.version", "tz_offset", "ua_ch.brands[0]",
                     "hardware_concurrency"}


def test_not_finite_numbers_are_refused():
    with pytest.raises(DeviceError):
        normalise_attrs({"screen": {"dpr": float("nan")}})
    with pytest.raises(DeviceError):
        normalise_attrs({"device_memory": float("inf")})


def test_oversized_input_is_bounded_not_refused():
    raw = vary(LAPTOP, user_agent="U\x00A\x1b" + "x" * 10_000, fonts=[f"font {i}" for i in range(5000)],
               languages=["zh-CN" * 100], webgl={"renderer": "r" * 4000})
    raw.update({f"unknown_{i}": i for i in range(40)})
    raw["deep"] = {"a": {"b": {"c": {"d": "too deep"}}}}
    a = normalise_attrs(raw)
    assert len(a["user_agent"]) == 512 and a["user_agent"].startswith("UAxxx")
    assert len(a["fonts"]) == 200 and len(a["languages"][0]) <= 35 and len(a["webgl"]["renderer"]) == 512
    assert len(a["extra"]) == 16 and "unknown_0" in a["extra"] and "deep" not in a["extra"]
    a = normalise_attrs({"deep": {"a": {"b": {"c": {"d": 1}}}}, "big": "y" * 9999, "odd": {"k": [1, 2, float("inf")]}})
    assert a["extra"]["deep"] == {"a": {"b": {"c": None}}}
    assert len(a["extra"]["big"]) == 512 and a["extra"]["odd"] == {"k": [1, 2, None]}


def test_unknown_keys_inside_known_objects_are_dropped():
    a = normalise_attrs({"screen": {"w": 10, "h": 20, "evil": "x" * 10_000}})
    assert "evil" not in a["screen"]
