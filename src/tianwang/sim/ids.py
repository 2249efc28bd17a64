"""Valid-looking synthetic identifiers: resident IDs, bank cards, mobile numbers."""

from __future__ import annotations

import random

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_number(rng: random.Random, *, region: str = "110105", birth_year: int | None = None) -> str:
    """An 18-character resident ID that passes the MOD 11-2 check."""
    year = birth_year or rng.randint(1955, 2004)
    body = f"{region}{year:04d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    total = sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS))
    return body + _ID_CHECK[total % 11]


def card_number(rng: random.Random, *, bin: str = "622202", length: int = 19) -> str:
    """A bank card number that passes the Luhn check."""
    body = bin + "".join(str(rng.randint(0, 9)) for _ in range(length - len(bin) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"
