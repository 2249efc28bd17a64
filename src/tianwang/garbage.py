"""What never links: placeholder and junk values that fraudsters and buggy clients both send.

Standard library only: `events.normalise` and the network both read it. Two ways in,
because personal data reaches the graph hashed:

- `is_garbage(kind, value)` judges a value in clear. `events.normalise` calls it before
  hashing: a placeholder phone, contact phone, id number, card or email is dropped there
  (never hashed, never stored, named in the record's `placeholders`); the graph calls it
  itself on the fields that stay in clear (device, ip, employer, address).
- `poison_hashes(hasher)` is the keyed hashes of the placeholders that pass validation and
  are worth enumerating (13800138000, a card of zeros after its BIN, the standard's example
  id number, null@qq.com …). The graph refuses a hashed value in this set, so garbage that
  arrives already hashed (records stored before normalise dropped it, a list or replay of
  old records) still links nothing.

Garbage: empty or whitespace, the words clients write for nothing ("null", "undefined",
"unknown", "n/a", 无, 未知 …), values with fewer than 3 letters or digits, one character
repeated ("000000", "aaaaaaa", the all-zero UUID), a straight run ("123456789", "abcdef"),
well-known placeholder device ids, IP addresses that are not globally routable (0.0.0.0,
loopback, 10/8, 172.16/12, 192.168/16, carrier-grade NAT 100.64/10, link-local,
documentation and reserved ranges, multicast: a client reporting its own LAN address says
nothing about where it is; a campus NAT is a real public address and is left to hub damping),
and GPS (0, 0).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import lru_cache

PLACEHOLDERS = frozenset({
    "", "null", "none", "nil", "undefined", "unknown", "n/a", "na", "nan", "-", "--", "?", "0", "test",
    "default", "empty", "(null)", "<null>", "[null]", "{}", "[]", "unavailable", "not available",
    "无", "暂无", "未知", "不详", "空", "其他", "测试", "未填写", "没有",
})
_SEPARATORS = str.maketrans("", "", " -:._/\\|,;")
_RUN = "0123456789abcdefghijklmnopqrstuvwxyz"
# Device ids shared by millions of unrelated devices: the ANDROID_ID of a buggy Android 2.2
# build, the MAC address Android 6+ reports to apps, the emulator's IMSI.
PLACEHOLDER_DEVICES = frozenset({"9774d56d682e549c", "020000000000", "310260000000000"})
# 13800138000 is the China Mobile service number, the usual stand-in for "a phone".
PLACEHOLDER_PHONES = frozenset({"13800138000", "13800000000", "13900000000", "18600000000"})
PLACEHOLDER_SUBSCRIBERS = frozenset({"12345678", "87654321", "00138000"})
# The example numbers of GB 11643 and of the textbooks, and payment networks' test cards.
PLACEHOLDER_IDS = frozenset({"11010519491231002X", "440524188001010014", "110101199003077777"})
PLACEHOLDER_CARDS = frozenset({
    "4111111111111111", "4242424242424242", "5555555555554444", "5105105105105100", "378282246310005",
    "6011111111111117", "3530111333300000", "6200000000000005", "6250946000000016",
})
PLACEHOLDER_EMAIL_USERS = frozenset({
    "null", "none", "nil", "test", "example", "noreply", "no-reply", "nobody", "unknown", "admin", "user",
    "abc", "xxx", "qq", "email", "mail", "a", "aa", "aaa", "123", "123456", "000", "000000", "111", "111111",
})
PLACEHOLDER_EMAIL_DOMAINS = frozenset({
    "example.com", "example.org", "example.net", "test.com", "null.com", "none.com", "localhost",
    "email.com", "mail.com", "xxx.com",
})
COMMON_EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "gmail.com", "hotmail.com", "outlook.com",
                        "foxmail.com", "139.com", "yahoo.com", "example.com", "test.com")
COMMON_CARD_BINS = ("622202", "621700", "622848", "621661", "622588", "622262", "623052", "621226", "622700",
                    "625965", "620000")


def _blank(value: str) -> bool:
    s = value.strip().lower().strip("\"'`()<>[]{}")
    return s in PLACEHOLDERS


def degenerate(value: str) -> bool:
    """Fewer than 3 letters or digits, one of them repeated, or a straight run of 6 or more."""
    s = value.lower().translate(_SEPARATORS)
    if len(s) < 3 or len(set(s)) == 1:
        return True
    return len(s) >= 6 and (s in _RUN or s in _RUN[::-1])


def junk(value: object) -> bool:
    """True for None, a non-string, a placeholder word or a degenerate value (any kind)."""
    return not isinstance(value, str) or _blank(value) or degenerate(value)


def _device(v: str) -> bool:
    return junk(v) or v.strip().lower().translate(_SEPARATORS) in PLACEHOLDER_DEVICES


_PRIVATE_V4 = (
    (0, 8), (10 << 24, 8), (100 << 24 | 64 << 16, 10), (127 << 24, 8), (169 << 24 | 254 << 16, 16),
    (172 << 24 | 16 << 16, 12), (192 << 24, 24), (192 << 24 | 2 << 8, 24), (192 << 24 | 88 << 16 | 99 << 8, 24),
    (192 << 24 | 168 << 16, 16), (198 << 24 | 18 << 16, 15), (198 << 24 | 51 << 16 | 100 << 8, 24),
    (203 << 24 | 113 << 8, 24), (224 << 24, 3),  # 224/4 multicast and 240/4 reserved: one /3
)


@lru_cache(maxsize=65_536)
def _ip(v: str) -> bool:
    parts = v.split(".")
    if len(parts) == 4 and all(p.isascii() and p.isdigit() and len(p) <= 3 for p in parts):
        n = 0
        for p in parts:
            n = n << 8 | int(p)
        if n > 0xFFFFFFFF:
            return True
        return any(n >> (32 - bits) == net >> (32 - bits) for net, bits in _PRIVATE_V4)
    try:
        return not ipaddress.ip_address(v.strip()).is_global
    except ValueError:
        return True


def _phone(v: str) -> bool:
    d = v.strip()
    if junk(d) or not (d.isascii() and d.isdigit()):
        return True
    sub = d[-8:]
    return d in PLACEHOLDER_PHONES or len(set(sub)) == 1 or sub in PLACEHOLDER_SUBSCRIBERS


def _id_number(v: str) -> bool:
    s = v.strip().upper()
    return junk(s) or len(set(s[:17])) == 1 or s in PLACEHOLDER_IDS or degenerate(s[6:17])


def _card(v: str) -> bool:
    d = v.strip()
    return junk(d) or not (d.isascii() and d.isdigit()) or len(set(d[6:-1])) <= 1 or d in PLACEHOLDER_CARDS


def _email(v: str) -> bool:
    s = v.strip().lower()
    user, at, domain = s.rpartition("@")
    return (junk(s) or not at or user in PLACEHOLDER_EMAIL_USERS or domain in PLACEHOLDER_EMAIL_DOMAINS
            or len(set(user.translate(_SEPARATORS))) <= 1)


def _text(v: str) -> bool:
    return junk(v)


_CHECKS: dict[str, Callable[[str], bool]] = {
    "device": _device, "ip": _ip, "phone": _phone, "id_number": _id_number, "card": _card, "email": _email,
    "employer": _text, "address": _text,
}


def is_garbage(kind: str, value: object) -> bool:
    """True when `value`, in clear, must never link customers as an entity of `kind`.

    `kind` is a linking kind (device, ip, phone, id_number, card, email, employer, address);
    any other kind gets the generic check (placeholder words, degenerate values).
    """
    if not isinstance(value, str):
        return True
    check = _CHECKS.get(kind)
    return check(value) if check is not None else junk(value)


def gps_garbage(lat: object, lon: object) -> bool:
    """True for a missing fix or (0, 0), which a client sends when it has no fix."""
    if not isinstance(lat, (int, float)) or not isinstance(lon, (int, float)):
        return True
    return abs(lat) < 1e-6 and abs(lon) < 1e-6


def _luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def _id_check(body: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


def placeholder_values() -> dict[str, set[str]]:
    """The enumerable placeholders of the hashed kinds, in the form `events.normalise` hashes them."""
    phones = set(PLACEHOLDER_PHONES)
    for prefix in range(130, 200):
        for sub in [str(d) * 8 for d in range(10)] + sorted(PLACEHOLDER_SUBSCRIBERS):
            phones.add(f"{prefix}{sub}")
    ids = set(PLACEHOLDER_IDS)
    for d in "0123456789":
        ids.add(d * 17 + _id_check(d * 17))
    cards = set(PLACEHOLDER_CARDS)
    for length in range(12, 20):
        for d in "0123456789":
            cards.add(d * length)
            for bin_ in COMMON_CARD_BINS:
                body = bin_ + d * (length - 7)
                cards.add(body + _luhn_digit(body))
    users = PLACEHOLDER_EMAIL_USERS | {ch * n for ch in "0123456789abcx" for n in range(1, 9)}
    emails = {f"{u}@{dom}" for u in users for dom in COMMON_EMAIL_DOMAINS + tuple(sorted(PLACEHOLDER_EMAIL_DOMAINS))}
    return {"phone": phones, "id_number": ids, "card": cards, "email": emails}


def poison_hashes(hasher: Callable[[str, str], str]) -> frozenset[str]:
    """The keyed hashes (as `events.normalise` makes them) of every enumerable placeholder."""
    return frozenset(hasher(kind, v) for kind, values in placeholder_values().items() for v in values)
