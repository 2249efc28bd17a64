"""The linking entities of a record: which fields link customers, as what kind, in what role.

A record (events.normalise) carries personal data as keyed hashes and the rest in clear.
Each linking field maps to a kind (config.KINDS) and a role: a phone is the customer's own
(`phone_hash`, `old_phone_hash`, `card_phone_hash`) or one of its contacts
(`contact_phone_hashes`); a card is bound (`card_hash`) or paid to (`payee_card_hash`). The
same number in either role is one entity — an applicant's own phone listed as another's
contact is exactly the link an intermediary leaves — and the role is kept on the link so
the measures can say "customers listing this contact" apart from "customers on this phone".

Garbage never comes out of here (see tianwang.garbage): clear values are judged by `is_garbage`,
hashed ones by membership in the poison set the graph was given.
"""

from __future__ import annotations

from collections.abc import Iterable

from tianwang.network.config import KINDS
from tianwang.garbage import gps_garbage, is_garbage

OWN, OTHER = 1, 2  # role bits: the customer's own phone/card; a contact's phone / a payee's card

DEVICE, PHONE, ID_NUMBER, CARD, EMAIL, IP, IP24, GPS_CELL, EMPLOYER, ADDRESS = (
    KINDS[k][0] for k in ("device", "phone", "id_number", "card", "email", "ip", "ip24", "gps_cell", "employer",
                          "address")
)
_HASHED = (
    ("phone_hash", PHONE, OWN), ("old_phone_hash", PHONE, OWN), ("card_phone_hash", PHONE, OWN),
    ("id_number_hash", ID_NUMBER, OWN), ("card_hash", CARD, OWN), ("payee_card_hash", CARD, OTHER),
    ("email_hash", EMAIL, OWN),
)
_CLEAR = (("device_id", DEVICE, "device"), ("employer", EMPLOYER, "employer"), ("address", ADDRESS, "address"))

Link = tuple[int, str, int]  # (kind code, value, role bit)
# Every field `Network.link` reads of a record: what server mode sends the other replicas (live/changes.py).
LINK_FIELDS = ("event_id", "ts", "customer_id", "scene", "ip", "ip_prefix", "gps_cell", "gps_lat", "gps_lon",
               "contact_phone_hashes", *(f for f, _, _ in _CLEAR), *(f for f, _, _ in _HASHED))


def linking_entities(record: dict, poison: frozenset[str] | set[str] = frozenset()) -> list[Link]:
    """The (kind, value, role) of every entity `record` links its customer to; garbage left out."""
    out: list[Link] = []
    get = record.get
    for field, code, kind in _CLEAR:
        v = get(field)
        if v is not None and not is_garbage(kind, v):
            out.append((code, v.strip(), OWN))
    ip = get("ip")
    if ip is not None and not is_garbage("ip", ip):
        out.append((IP, ip, OWN))
        prefix = get("ip_prefix")
        if prefix is not None:
            out.append((IP24, prefix, OWN))
    cell = get("gps_cell")
    if cell is not None and not gps_garbage(get("gps_lat"), get("gps_lon")):
        out.append((GPS_CELL, cell, OWN))
    for field, code, role in _HASHED:
        v = get(field)
        if v is not None and v not in poison:
            out.append((code, v, role))
    contacts: Iterable[str] | None = get("contact_phone_hashes")
    if contacts:
        for v in contacts:
            if v not in poison:
                out.append((PHONE, v, OTHER))
    return out
