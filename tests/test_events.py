"""Event schema helpers: checks and derived fields against their reference definitions."""

import random

import pytest

from tianwang.events import geohash, id_number_valid, is_placeholder, luhn_valid
from tianwang.sim.ids import card_number, id_number

_BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"


def reference_geohash(lat: float, lon: float, precision: int) -> str:
    """The textbook bisection."""
    lat_lo, lat_hi, lon_lo, lon_hi = -90.0, 90.0, -180.0, 180.0
    out, bits, ch, even = [], 0, 0, True
    while len(out) < precision:
        if even:
            mid = (lon_lo + lon_hi) / 2
            ch = (ch << 1) | (lon >= mid)
            lon_lo, lon_hi = (mid, lon_hi) if lon >= mid else (lon_lo, mid)
        else:
            mid = (lat_lo + lat_hi) / 2
            ch = (ch << 1) | (lat >= mid)
            lat_lo, lat_hi = (mid, lat_hi) if lat >= mid else (lat_lo, mid)
        even = not even
        bits += 1
        if bits == 5:
            out.append(_BASE32[ch])
            bits, ch = 0, 0
    return "".join(out)


@pytest.mark.parametrize("precision", [1, 2, 5, 6])
def test_geohash_matches_the_bisection(precision):
    rng = random.Random(precision)
    points = [(rng.uniform(-90, 90), rng.uniform(-180, 180)) for _ in range(20_000)]
    points += [(39.9042, 116.4074), (31.2304, 121.4737), (0.0, 0.0), (90.0, 180.0), (-90.0, -180.0)]
    for lat, lon in points:
        assert geohash(lat, lon, precision) == reference_geohash(lat, lon, precision), (lat, lon)
    assert geohash(39.9042, 116.4074, 6) == "wx4g0b"


def test_generated_identifiers_pass_their_checks():
    rng = random.Random(1)
    assert all(id_number_valid(id_number(rng)) for _ in range(500))
    assert all(luhn_valid(card_number(rng)) for _ in range(500))
    assert not id_number_valid("110105194912310021")
    assert not luhn_valid("6222020000000000001")


@pytest.mark.parametrize("value", ["", "null", "NULL", "None", "undefined", "000000", "0000", "ffffffff", "-", "unknown"])
def test_placeholders_are_recognised(value):
    assert is_placeholder(value)


@pytest.mark.parametrize("value", ["dev-1", "0001", "13812345678", "abc"])
def test_real_values_are_not_placeholders(value):
    assert not is_placeholder(value)


def test_record_fields_name_everything_normalise_produces():
    from zoneinfo import ZoneInfo

    from tianwang.events import RECORD_FIELDS, Hasher, normalise, parse_event
    from tianwang.sim.sample import sample_day

    events = sample_day(customers=5)
    rich = dict(events[0], scene="apply", amount=1, employer="e", contacts=[{"phone": "13912345678"}],
                name="张三", email="a@b.cn", extra_thing=1)
    for raw in events + [rich]:
        record = normalise(parse_event(raw), hasher=Hasher(b"k"), tz=ZoneInfo("Asia/Shanghai"))
        assert set(record) <= RECORD_FIELDS, set(record) - RECORD_FIELDS
