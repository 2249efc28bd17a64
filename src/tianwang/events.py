"""Event and scene schema: what a lending system may send, validated precisely.

An event arrives as flat JSON: the common fields, the scene's own fields, and any
other attributes (kept as they are, within limits). `parse_event` validates it and
`normalise` turns it into the flat dict every later stage reads, with personal data
(id_number, phone, card numbers, contact phones, name, email) replaced by keyed hashes
and masks, money in integer fen, and derived fields (age, region, hour, ip prefix,
gps cell) added.
"""

from __future__ import annotations

import hashlib
import ipaddress
import operator
import re
import unicodedata
from datetime import date, datetime, timezone
from typing import Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from tianwang.garbage import is_garbage
from tianwang.timefmt import iso_dt, to_ms

SCENES = (
    "register",
    "login",
    "apply",
    "drawdown",
    "payment",
    "bind_card",
    "change_phone",
    "repay",
    "inquiry",
    "behavior",
)

MAX_EXTRA_KEYS = 64
MAX_EXTRA_DEPTH = 4
MAX_STRING = 512
MAX_AMOUNT_FEN = 10**12  # ten billion yuan: anything above is a unit error

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # C0 (but tab and line breaks), DEL, C1
# In an identifier, characters that change how it looks without changing what it is: zero-width
# ones (d\u200bx and dx would be two devices) and bidi controls (a spoofed id in the console).
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$"
_IPV4 = re.compile(r"^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_EXTRA_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PLACEHOLDERS = {"", "null", "none", "nil", "undefined", "unknown", "n/a", "na", "-"}


class EventError(ValueError):
    """An event that cannot be accepted; `errors` lists (field, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))


_ANY_DIGIT = re.compile(r"\d")  # every Unicode decimal digit (Nd): fullwidth ６, Arabic-Indic ٦, …


def keyed(value: str) -> str:
    """A value that becomes a key (a phone, an ID or card number, an email, an IP), in the one form
    it is validated, hashed and matched in: NFKC (fullwidth letters and digits, as Chinese input
    methods type them, become ASCII) and every other decimal digit as its ASCII digit. Without
    this, `６２２２…` validates, hashes to another value than `6222…`, and walks past a blacklist."""
    if value.isascii():
        return value
    value = unicodedata.normalize("NFKC", value)
    return _ANY_DIGIT.sub(lambda m: str(unicodedata.decimal(m.group())), value)


def _clean(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("contains control characters")
    return value.strip()


Text = Annotated[str, Field(max_length=MAX_STRING)]
Money = Annotated[StrictInt, Field(ge=0, le=MAX_AMOUNT_FEN, description="integer fen (1 yuan = 100 fen)")]


def id_number_valid(value: str) -> bool:
    """True for an 18-character resident ID whose last character is its ISO 7064 MOD 11-2 check."""
    if len(value) != 18 or not (value.isascii() and value[:17].isdigit()):
        return False
    total = sum(map(operator.mul, map(int, value[:17]), _ID_WEIGHTS))  # no generator: hot path
    if _ID_CHECK[total % 11] != value[17].upper():
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return True


def luhn_valid(value: str) -> bool:
    """True when a digit string passes the Luhn check used by bank cards."""
    if not (value.isascii() and value.isdigit()):
        return False
    total = 0
    for i, ch in enumerate(reversed(value)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def normalise_phone(value: str) -> str:
    digits = re.sub(r"[\s-]", "", keyed(value))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not _MOBILE.match(digits):
        raise ValueError("not a mainland mobile number (11 digits starting 13-19)")
    return digits


class Gps(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str
    relation: Literal["parent", "spouse", "child", "sibling", "relative", "friend", "colleague", "other"] = "other"
    name: Text | None = None

    _phone = field_validator("phone")(lambda cls, v: normalise_phone(_clean(v)))


class EventBase(BaseModel):
    """Fields every scene may carry. Unknown attributes are kept in `model_extra`."""

    model_config = ConfigDict(extra="allow", str_max_length=MAX_STRING, populate_by_name=True)

    event_id: str = Field(pattern=_ID_PATTERN)
    occurred_at: datetime
    customer_id: str = Field(pattern=_ID_PATTERN)
    device_id: Text | None = None
    ip: str | None = None
    phone: str | None = None
    id_number: str | None = None
    name: Text | None = None
    email: Text | None = None
    gps: Gps | None = None
    city: Text | None = None
    channel: Literal["app", "web", "h5", "mini_program", "api", "offline"] | None = None
    user_agent: Text | None = None
    os: Text | None = None
    app_version: Text | None = None
    on_call: StrictBool | None = None
    remote_control: StrictBool | None = None
    emulator: StrictBool | None = None
    rooted: StrictBool | None = None

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("must carry a timezone (e.g. 2026-01-02T03:04:05+08:00)")
        v = v.astimezone(timezone.utc)
        if not (2000 <= v.year <= 2100):
            raise ValueError("must be between the years 2000 and 2100")
        return v

    @field_validator("ip")
    @classmethod
    def _ip(cls, v: str | None) -> str | None:
        if v is None:
            return None
        if _IPV4.match(v):  # the common case, canonical already: skip the ipaddress module
            return v
        if "%" in v:  # fe80::1%eth0: a zone id is the sender's own interface name, any text, a new IP each
            raise ValueError("an IPv6 address without a zone id (%…)")
        try:
            return str(ipaddress.ip_address(keyed(_clean(v))))
        except ValueError:
            raise ValueError("not an IPv4 or IPv6 address") from None

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return None if v is None else normalise_phone(_clean(v))

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = keyed(_clean(v)).upper()
        if not id_number_valid(v):
            raise ValueError("not a valid 18-character resident ID (MOD 11-2 check or birth date fails)")
        return v

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = keyed(_clean(v)).lower()
        if not re.match(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[a-z0-9-]{2,}$", v):
            raise ValueError("not an email address")
        return v

    @field_validator("name", "city", "user_agent", "os", "app_version")
    @classmethod
    def _text(cls, v: str | None) -> str | None:
        return None if v is None else _clean(v)

    @field_validator("device_id", "referrer_id", "loan_id", "merchant_id", "order_id", check_fields=False)
    @classmethod
    def _identifier(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = _clean(v)
        if _INVISIBLE.search(v):
            raise ValueError("contains invisible or direction-changing characters (zero-width, bidi controls)")
        return v

    @model_validator(mode="after")
    def _extra_limits(self) -> "EventBase":
        extra = self.model_extra
        if not extra:
            return self
        if len(extra) > MAX_EXTRA_KEYS:
            raise ValueError(f"at most {MAX_EXTRA_KEYS} extra attributes")
        for key, value in extra.items():
            if not _EXTRA_KEY.match(key):
                raise ValueError(f"attribute name {key[:40]!r} must be letters, digits and _")
            _check_extra(key, value, 1)
        return self


def _check_extra(path: str, value: Any, depth: int) -> None:
    if depth > MAX_EXTRA_DEPTH:
        raise ValueError(f"{path}: nested deeper than {MAX_EXTRA_DEPTH}")
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise ValueError(f"{path}: longer than {MAX_STRING} characters")
        if _CONTROL.search(value):
            raise ValueError(f"{path}: contains control characters")
    elif isinstance(value, dict):
        if len(value) > MAX_EXTRA_KEYS:
            raise ValueError(f"{path}: more than {MAX_EXTRA_KEYS} keys")
        for k, v in value.items():
            if not isinstance(k, str) or len(k) > 64 or _CONTROL.search(k):
                raise ValueError(f"{path}: bad key")
            _check_extra(f"{path}.{k}", v, depth + 1)
    elif isinstance(value, list):
        if len(value) > MAX_EXTRA_KEYS:
            raise ValueError(f"{path}: more than {MAX_EXTRA_KEYS} items")
        for i, v in enumerate(value):
            _check_extra(f"{path}[{i}]", v, depth + 1)
    elif isinstance(value, float) and value != value:
        raise ValueError(f"{path}: NaN is not a value")


class Register(EventBase):
    scene: Literal["register"]
    invite_code: Text | None = None
    referrer_id: Text | None = None


class Login(EventBase):
    scene: Literal["login"]
    result: Literal["success", "fail"] = "success"
    method: Literal["password", "sms", "face", "token", "other"] | None = None


class Apply(EventBase):
    """A credit application (授信申请)."""

    scene: Literal["apply"]
    amount: Money
    product: Text | None = None
    term_months: Annotated[StrictInt, Field(ge=1, le=360)] | None = None
    employer: Text | None = None
    address: Text | None = None
    home_city: Text | None = None
    monthly_income: Money | None = None
    education: Literal["primary", "secondary", "college", "bachelor", "master", "doctor", "other"] | None = None
    marital_status: Literal["single", "married", "divorced", "widowed", "other"] | None = None
    purpose: Text | None = None
    contacts: Annotated[list[Contact], Field(max_length=20)] = []

    _employer = field_validator("employer", "address", "home_city", "product", "purpose")(
        lambda cls, v: None if v is None else _clean(v)
    )


class Drawdown(EventBase):
    """Drawing on a granted credit line (借款/用信)."""

    scene: Literal["drawdown"]
    amount: Money
    loan_id: Text | None = None
    credit_limit: Money | None = None
    payee_card: str | None = None
    payee_name: Text | None = None
    term_months: Annotated[StrictInt, Field(ge=1, le=360)] | None = None
    purpose: Text | None = None

    _card = field_validator("payee_card")(lambda cls, v: None if v is None else card_number(v))


class Payment(EventBase):
    """A purchase paid with the credit line (消费)."""

    scene: Literal["payment"]
    amount: Money
    merchant_id: Text | None = None
    merchant_category: Annotated[str, Field(pattern=r"^\d{4}$")] | None = None
    order_id: Text | None = None
    merchant_city: Text | None = None


class BindCard(EventBase):
    scene: Literal["bind_card"]
    card_no: str
    bank: Text | None = None
    card_phone: str | None = None

    _card = field_validator("card_no")(lambda cls, v: card_number(v))
    _card_phone = field_validator("card_phone")(lambda cls, v: None if v is None else normalise_phone(_clean(v)))


class ChangePhone(EventBase):
    scene: Literal["change_phone"]
    old_phone: str | None = None

    _old = field_validator("old_phone")(lambda cls, v: None if v is None else normalise_phone(_clean(v)))

    @model_validator(mode="after")
    def _needs_phone(self) -> "ChangePhone":
        if self.phone is None:
            raise ValueError("phone (the new number) is required for change_phone")
        return self


class Repay(EventBase):
    scene: Literal["repay"]
    amount: Money
    loan_id: Text | None = None
    overdue_days: Annotated[StrictInt, Field(ge=0, le=10000)] = 0


class Inquiry(EventBase):
    """An external credit inquiry seen for the customer (多头借贷)."""

    scene: Literal["inquiry"]
    institution_id: Annotated[str, Field(pattern=_ID_PATTERN)]
    institution_type: Literal["bank", "consumer_finance", "microloan", "p2p", "other"] = "other"
    inquiry_type: Literal["loan_approval", "credit_card", "guarantee", "post_loan"] = "loan_approval"
    amount: Money | None = None


class Behavior(EventBase):
    """An autocaptured client event."""

    scene: Literal["behavior"]
    event_type: Annotated[str, Field(pattern=r"^[a-z_]{1,32}$")]
    url: Text | None = None
    selector: Text | None = None
    duration_ms: Annotated[StrictInt, Field(ge=0, le=86_400_000)] | None = None
    # The collection rule the captured event matched (collect/rules.py), set by POST /v1/collect.
    virtual: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")] | None = None
    # An input field (never its value): its length, pasted into, corrections, keystrokes.
    pasted: StrictBool | None = None
    length: Annotated[StrictInt, Field(ge=0, le=1_000_000)] | None = None
    corrections: Annotated[StrictInt, Field(ge=0, le=1_000_000)] | None = None
    keystrokes: Annotated[StrictInt, Field(ge=0, le=1_000_000)] | None = None
    # A behaviour summary: inter-key intervals, pointer moves and how straight they were (0-1).
    keys_mean_ms: Annotated[float, Field(ge=0, le=600_000)] | None = None
    keys_sd_ms: Annotated[float, Field(ge=0, le=600_000)] | None = None
    mouse_moves: Annotated[StrictInt, Field(ge=0, le=10_000_000)] | None = None
    mouse_straightness: Annotated[float, Field(ge=0, le=1)] | None = None


def card_number(value: str) -> str:
    digits = re.sub(r"[\s-]", "", keyed(_clean(value)))
    if not (12 <= len(digits) <= 19) or not luhn_valid(digits):
        raise ValueError("not a bank card number (12-19 digits passing the Luhn check)")
    return digits


EventIn = Annotated[
    Union[Register, Login, Apply, Drawdown, Payment, BindCard, ChangePhone, Repay, Inquiry, Behavior],
    Field(discriminator="scene"),
]
_ADAPTER: TypeAdapter[EventIn] = TypeAdapter(EventIn)


def parse_event(data: Any) -> EventBase:
    """Validate one event (a dict decoded from JSON); raise EventError naming each bad field."""
    if not isinstance(data, dict):
        raise EventError([("", "an event must be a JSON object")])
    scene = data.get("scene")
    if scene not in SCENES:
        msg = "is required" if scene is None else f"unknown scene {str(scene)[:40]!r}; one of {', '.join(SCENES)}"
        raise EventError([("scene", msg)])
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise EventError(_errors(exc)) from None


def _errors(exc: ValidationError) -> list[tuple[str, str]]:
    out = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        if loc and loc[0] in SCENES:  # the discriminator's branch name is noise
            loc = loc[1:]
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        out.append((".".join(loc), msg))
    return out


# ---------------------------------------------------------------- normalisation


class Hasher:
    """Keyed hashes of personal data: the same value hashes alike across fields of its kind.

    BLAKE2b in keyed mode (a MAC by design, three times faster than HMAC-SHA256 here),
    96 bits: collisions among billions of values stay improbable.
    """

    def __init__(self, key: bytes):
        self._key = hashlib.sha256(key).digest()  # any length of configured key → 32 bytes

    def __call__(self, kind: str, value: str) -> str:
        return hashlib.blake2b(f"{kind}:{value}".encode(), key=self._key, digest_size=12).hexdigest()


def mask_phone(v: str) -> str:
    return f"{v[:3]}****{v[-4:]}"


def mask_id_number(v: str) -> str:
    return f"{v[:6]}********{v[-4:]}"


def mask_card(v: str) -> str:
    return f"{v[:6]}{'*' * (len(v) - 10)}{v[-4:]}"


def mask_name(v: str) -> str:
    return v[:1] + "*" * max(len(v) - 1, 1)


def mask_email(v: str) -> str:
    local, _, domain = v.partition("@")
    return f"{local[:1]}***@{domain}"


def is_placeholder(value: Any) -> bool:
    """True for values clients send when they have none: '', 'null', '000000', 'unknown'."""
    if value is None:
        return True
    s = str(value).strip().lower()
    return s in _PLACEHOLDERS or (len(s) >= 4 and len(set(s)) == 1 and s[0] in "0f-x")


_BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"


def _spread(x: int) -> int:
    """Bit i of a 16-bit value moved to bit 2i (for interleaving)."""
    return _SPREAD[x & 0xFF] | (_SPREAD[x >> 8] << 16)


_SPREAD = [sum(((b >> i) & 1) << (2 * i) for i in range(8)) for b in range(256)]


def geohash(lat: float, lon: float, precision: int = 6) -> str:
    """Standard geohash of a point (precision 6 is a cell of about 1.2 km x 0.6 km).

    Quantises both axes and interleaves the bits (longitude first), which is the classic
    bisection done in integer arithmetic; tests check it against the bisection.
    """
    bits = 5 * precision
    if bits > 32:
        raise ValueError("precision at most 6")
    n_lon, n_lat = (bits + 1) // 2, bits // 2
    x = min(int((lon + 180.0) / 360.0 * (1 << n_lon)), (1 << n_lon) - 1)
    y = min(int((lat + 90.0) / 180.0 * (1 << n_lat)), (1 << n_lat) - 1)
    code = (_spread(x) << 1) | _spread(y) if bits % 2 == 0 else _spread(x) | (_spread(y) << 1)
    return "".join(_BASE32[(code >> (bits - 5 * (i + 1))) & 31] for i in range(precision))


def _ip_prefix(ip: str) -> str:
    if _IPV4.match(ip):
        return ip.rsplit(".", 1)[0] + ".0/24"
    addr = ipaddress.ip_address(ip)
    net = ipaddress.ip_network(f"{ip}/{24 if addr.version == 4 else 48}", strict=False)
    return str(net)


def normalise(event: EventBase, *, hasher: Hasher, tz: ZoneInfo) -> dict[str, Any]:
    """The flat dict the walk reads: no raw personal data, derived fields added.

    Linking values that are placeholders are dropped here, so no later stage links or
    counts them: a placeholder device id ('', 'null', '000000' …), and — judged in clear by
    `garbage.is_garbage` before anything is hashed — a phone (own, old or the card's), an
    id number, a card (bound or payee), an email or a contact phone that passed validation
    but is a stand-in (13800138000, a card of zeros after its BIN, 11010519491231002X,
    null@qq.com …). A dropped value is neither hashed nor stored, nor are the fields derived
    from it (mask, prefix, bin, domain, age, region …): the record reads as if it was not
    sent, so windows keyed by it (phone_hash …) do not count it and the network does not
    link on it. The names of the dropped fields are kept in `placeholders` (e.g. ["phone",
    "contacts"]) so analysts can see a client sent one. A contact with a placeholder phone
    still counts in contact_count and contact_relations; only its hash is left out.
    """
    out: dict[str, Any] = event.model_dump(exclude_none=True, mode="python")  # a fresh dict: ours to edit
    extra = event.model_extra
    if extra:  # extra attributes go under "attributes", not beside the declared fields
        out = {key: value for key, value in out.items() if key not in extra}
    out["ts"] = to_ms(event.occurred_at)
    out["occurred_at"] = iso_dt(event.occurred_at)
    local = event.occurred_at.astimezone(tz)
    out["hour"] = local.hour
    out["weekday"] = local.isoweekday()

    if "device_id" in out and is_placeholder(out["device_id"]):
        del out["device_id"]
    if "ip" in out:
        out["ip_prefix"] = _ip_prefix(out["ip"])
    if "gps" in out:
        gps = out.pop("gps")
        out["gps_lat"], out["gps_lon"] = gps["lat"], gps["lon"]
        out["gps_cell"] = geohash(gps["lat"], gps["lon"], 6)
    placeholders = [f for f, kind in _GARBAGE_CHECKED if f in out and is_garbage(kind, out[f])]
    for field in placeholders:
        del out[field]
    if (v := out.pop("id_number", None)) is not None:
        out["id_number_hash"] = hasher("id_number", v)
        out["id_number_mask"] = mask_id_number(v)
        out["id_region"] = v[:6]
        out["id_province"] = v[:2]
        born = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
        day = local.date()
        out["age"] = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
        out["gender"] = "m" if int(v[16]) % 2 else "f"
    for field in ("phone", "old_phone", "card_phone"):
        if (v := out.pop(field, None)) is not None:
            out[f"{field}_hash"] = hasher("phone", v)
            out[f"{field}_mask"] = mask_phone(v)
            if field == "phone":
                out["phone_prefix"] = v[:7]
    for field in ("card_no", "payee_card"):
        if (v := out.pop(field, None)) is not None:
            stem = "card" if field == "card_no" else field
            out[f"{stem}_hash"] = hasher("card", v)
            out[f"{stem}_mask"] = mask_card(v)
            out[f"{stem}_bin"] = v[:6]
    if (v := out.pop("name", None)) is not None:
        out["name_hash"] = hasher("name", v)
        out["name_mask"] = mask_name(v)
    if (v := out.pop("payee_name", None)) is not None:
        out["payee_name_hash"] = hasher("name", v)
        out["payee_name_mask"] = mask_name(v)
    if (v := out.pop("email", None)) is not None:
        out["email_hash"] = hasher("email", v)
        out["email_mask"] = mask_email(v)
        out["email_domain"] = v.rsplit("@", 1)[1]
    if (contacts := out.pop("contacts", None)) is not None:
        real = [c["phone"] for c in contacts if not is_garbage("phone", c["phone"])]
        if len(real) < len(contacts):
            placeholders.append("contacts")
        out["contact_phone_hashes"] = sorted({hasher("phone", p) for p in real})
        out["contact_relations"] = [c["relation"] for c in contacts]
        out["contact_count"] = len(contacts)
    if placeholders:
        out["placeholders"] = placeholders
    if extra:
        out["attributes"] = dict(extra)
    return out


# Linking personal data judged by `is_garbage` before it is hashed (event field, garbage kind).
_GARBAGE_CHECKED = (
    ("phone", "phone"), ("old_phone", "phone"), ("card_phone", "phone"), ("id_number", "id_number"),
    ("card_no", "card"), ("payee_card", "card"), ("email", "email"),
)


# What `normalise` replaces (personal data in clear) and what it adds: with the scene models'
# own fields, the names a record can carry — what policy files may name (tests keep it true).
_REPLACED = {"phone", "old_phone", "card_phone", "id_number", "card_no", "payee_card", "name", "payee_name",
             "email", "contacts", "gps"}
_DERIVED = {
    "ts", "hour", "weekday", "ip_prefix", "gps_lat", "gps_lon", "gps_cell", "attributes",
    "id_number_hash", "id_number_mask", "id_region", "id_province", "age", "gender",
    "phone_hash", "phone_mask", "phone_prefix", "old_phone_hash", "old_phone_mask", "card_phone_hash",
    "card_phone_mask", "card_hash", "card_mask", "card_bin", "payee_card_hash", "payee_card_mask",
    "payee_card_bin", "name_hash", "name_mask", "payee_name_hash", "payee_name_mask", "email_hash",
    "email_mask", "email_domain", "contact_phone_hashes", "contact_relations", "contact_count", "placeholders",
}
# What the device registry says of the event's device_id when it is one it issued (the walk's
# enrich step, device/): how sure the match was and the device's risk signals.
DEVICE_FIELDS = (
    "device_known", "device_confidence", "device_automation", "device_headless", "device_emulated",
    "device_tampered", "device_tz_mismatch", "device_customers_30d",
)
_DERIVED |= set(DEVICE_FIELDS)
RECORD_FIELDS = frozenset(
    {name for model in (Register, Login, Apply, Drawdown, Payment, BindCard, ChangePhone, Repay, Inquiry, Behavior)
     for name in model.model_fields} - _REPLACED | _DERIVED
)
