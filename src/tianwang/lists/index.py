"""Black, grey and white lists: entry validation, CSV import, and the in-memory lookup.

Entries name an entity kind (phone, device, card …) and a value. Personal data arrives in
clear and is stored only as the same keyed hash events carry, so a listed phone matches the
applicant's phone, a contact's phone or a card's reserved phone alike. The walk never reads
the database for a list hit: `ListIndex` holds every entry of every tenant in memory.
"""

from __future__ import annotations

import csv
import io
import ipaddress
from datetime import datetime, timezone
from collections.abc import Callable, Iterable
from typing import Any

from tianwang.events import Hasher, card_number, id_number_valid, is_placeholder, keyed, normalise_phone
from tianwang.garbage import is_garbage
from tianwang.timefmt import to_ms

LIST_TYPES = ("black", "grey", "white")
MAX_IMPORT_ROWS = 1_000_000

# entity kind → how a value in clear becomes the stored value (None: stored as given)
_KINDS = {
    "phone": "phone",
    "id_number": "id_number",
    "card": "card",
    "email": "email",
    "device": None,
    "ip": None,
    "ip_prefix": None,
    "customer": None,
    "gps_cell": None,
    "employer": None,
    "merchant": None,
    "institution": None,
}

# event field → entity kind, for list variables (`entity: phone_hash` looks up kind phone)
FIELD_KINDS = {
    "device_id": "device",
    "ip": "ip",
    "ip_prefix": "ip_prefix",
    "customer_id": "customer",
    "phone_hash": "phone",
    "old_phone_hash": "phone",
    "card_phone_hash": "phone",
    "contact_phone_hashes": "phone",
    "id_number_hash": "id_number",
    "card_hash": "card",
    "payee_card_hash": "card",
    "email_hash": "email",
    "gps_cell": "gps_cell",
    "employer": "employer",
    "merchant_id": "merchant",
    "institution_id": "institution",
}


class ListError(ValueError):
    """A list entry that cannot be stored; `errors` lists (where, message)."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{w}: {m}" for w, m in errors[:20]))


def normalise_entry(raw: dict[str, Any], *, hasher: Hasher, where: str = "") -> dict[str, Any]:
    """Validate one entry {list_type, entity, value, reason, source, expires_at}; hash PII."""
    errors: list[tuple[str, str]] = []
    p = f"{where}." if where else ""
    list_type = str(raw.get("list_type") or "").strip().lower()
    if list_type not in LIST_TYPES:
        errors.append((f"{p}list_type", f"must be one of {', '.join(LIST_TYPES)}"))
    entity = str(raw.get("entity") or "").strip().lower()
    if entity not in _KINDS:
        errors.append((f"{p}entity", f"must be one of {', '.join(_KINDS)}"))
    value = raw.get("value")
    if not isinstance(value, str) or is_placeholder(value) or len(value) > 256:
        errors.append((f"{p}value", "must be a real value (not empty or a placeholder), at most 256 characters"))
    reason = str(raw.get("reason") or "").strip()
    if not reason or len(reason) > 512:
        errors.append((f"{p}reason", "is required (why the value is listed), at most 512 characters"))
    source = str(raw.get("source") or "manual").strip()[:128]
    expires = _expiry(raw.get("expires_at"), f"{p}expires_at", errors)
    if errors:
        raise ListError(errors)
    try:
        stored = _stored_value(entity, value.strip(), hasher)
    except ValueError as exc:
        raise ListError([(f"{p}value", str(exc))]) from None
    return {
        "list_type": list_type,
        "entity": entity,
        "value": stored,
        "reason": reason,
        "source": source,
        "expires_at": expires,
    }


def _stand_in(kind: str, value: str) -> str:
    """`value` unless it is a placeholder events carry dropped (garbage.py): an entry on it could
    never match, so it is refused rather than stored to give a false sense of cover."""
    if is_garbage(kind, value):
        raise ValueError(f"{value[:3]}… is a placeholder value (events drop it before matching): an entry on it "
                         "would never match")
    return value


def _stored_value(entity: str, value: str, hasher: Hasher) -> str:
    kind = _KINDS[entity]
    if kind == "phone":
        return hasher("phone", _stand_in("phone", normalise_phone(value)))
    if kind == "id_number":
        value = keyed(value).upper()
        if not id_number_valid(value):
            raise ValueError("not a valid 18-character resident ID")
        return hasher("id_number", _stand_in("id_number", value))
    if kind == "card":
        return hasher("card", _stand_in("card", card_number(value)))
    if kind == "email":
        return hasher("email", _stand_in("email", keyed(value).lower()))
    if entity == "ip":
        return str(ipaddress.ip_address(keyed(value)))
    return value


def _expiry(value: Any, where: str, errors: list) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        errors.append((where, "must be an ISO date-time like 2027-01-01T00:00:00+08:00"))
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return to_ms(dt)


def parse_csv(text: str, *, hasher: Hasher) -> list[dict[str, Any]]:
    """Parse a list CSV (header: list_type,entity,value,reason[,source][,expires_at]).

    All or nothing: any bad row raises ListError naming every bad line, and nothing is
    returned to store. A value listed twice in the file is an error too.
    """
    reader = csv.DictReader(io.StringIO(text))
    required = {"list_type", "entity", "value", "reason"}
    if reader.fieldnames is None or not required <= set(reader.fieldnames):
        raise ListError([("line 1", f"header must name {', '.join(sorted(required))}")])
    entries, errors, seen = [], [], {}
    for n, row in enumerate(reader, start=2):
        if n - 1 > MAX_IMPORT_ROWS:
            raise ListError([(f"line {n}", f"more than {MAX_IMPORT_ROWS} rows")])
        if None in row:
            errors.append((f"line {n}", "more fields than the header"))
            continue
        try:
            entry = normalise_entry(row, hasher=hasher, where=f"line {n}")
        except ListError as exc:
            errors.extend(exc.errors)
            continue
        key = (entry["list_type"], entry["entity"], entry["value"])
        if key in seen:
            errors.append((f"line {n}", f"the same value is already on line {seen[key]}"))
            continue
        seen[key] = n
        entries.append(entry)
    if errors:
        raise ListError(errors)
    return entries


class ListIndex:
    """Every tenant's entries in memory; `contains` is the lookup list variables call.

    Every list change goes through `put` / `remove` (start-up load, the API, the CLI import),
    so this is where the network hears of blacklisted customers: a black entry of entity
    `customer` calls `on_blacklist(tenant, customer_id)` when it is added or removed, and
    `blacklisted_customers` says who is listed (unexpired) at a time.
    """

    def __init__(self, on_blacklist: Callable[[str, str], None] | None = None) -> None:
        self._entries: dict[tuple[str, str, str, str], int | None] = {}
        self._black_customers: dict[str, dict[str, int | None]] = {}  # tenant → customer id → expiry
        self.on_blacklist = on_blacklist

    def load(self, rows: Iterable[dict[str, Any]]) -> None:
        for r in rows:
            self.put(r["tenant"], r)

    def put(self, tenant: str, entry: dict[str, Any]) -> None:
        self._entries[(tenant, entry["list_type"], entry["entity"], entry["value"])] = entry.get("expires_at")
        if entry["list_type"] == "black" and entry["entity"] == "customer":
            self._black_customers.setdefault(tenant, {})[entry["value"]] = entry.get("expires_at")
            if self.on_blacklist is not None:
                self.on_blacklist(tenant, entry["value"])

    def remove(self, tenant: str, list_type: str, entity: str, value: str) -> None:
        self._entries.pop((tenant, list_type, entity, value), None)
        if list_type == "black" and entity == "customer":
            if self._black_customers.get(tenant, {}).pop(value, False) is not False and self.on_blacklist is not None:
                self.on_blacklist(tenant, value)

    def blacklisted_customers(self, tenant: str, ts: int) -> set[str]:
        """The customer ids on the tenant's blacklist at time `ts` (epoch ms; expired entries left out)."""
        return {c for c, expires in self._black_customers.get(tenant, {}).items() if expires is None or ts < expires}

    def contains(self, tenant: str, list_type: str, entity: str, value: Any, ts: int) -> bool:
        """Is `value` of event field `entity` on the list at event time `ts`?"""
        kind = FIELD_KINDS.get(entity, entity)
        values = value if isinstance(value, list) else (value,)
        for v in values:
            key = (tenant, list_type, kind, v)
            if key in self._entries:
                expires = self._entries[key]
                if expires is None or ts < expires:
                    return True
        return False

    def __len__(self) -> int:
        return len(self._entries)
