"""Valid events for tests; each keyword changes one thing."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from tianwang.sim.ids import card_number, id_number

BASE = datetime(2026, 11, 25, 10, 0, tzinfo=timezone(timedelta(hours=8)))


def _person(customer: str, birth_year: int | None) -> dict:
    rng = random.Random(customer)
    return {
        "customer_id": customer,
        "device_id": f"dev-{customer}",
        "ip": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        "phone": f"138{rng.randint(0, 99_999_999):08d}",
        "id_number": id_number(rng, birth_year=birth_year or 1990),
        "gps": {"lat": 39.9, "lon": 116.4},
        "city": "北京",
    }


def apply_event(event_id: str, *, customer: str = "c-1", amount: int = 2_000_000, minute: int = 0,
                birth_year: int | None = None, **extra) -> dict:
    event = {
        "event_id": event_id,
        "scene": "apply",
        "occurred_at": (BASE + timedelta(minutes=minute)).isoformat(),
        "amount": amount,
        "employer": "国家电网",
        "monthly_income": 1_200_000,
        "home_city": "北京",
        "contacts": [{"phone": "13911112222", "relation": "parent"}],
        **_person(customer, birth_year),
    }
    event.update(extra)
    return event


def drawdown_event(event_id: str, *, customer: str = "c-1", amount: int = 500_000, limit: int = 2_000_000,
                   minute: int = 60, hour: int | None = None, on_call: bool | None = None,
                   birth_year: int | None = None, payee_seed: str = "new", **extra) -> dict:
    at = BASE + timedelta(minutes=minute)
    if hour is not None:
        at = (BASE + timedelta(days=1)).replace(hour=hour, minute=0)
    event = {
        "event_id": event_id,
        "scene": "drawdown",
        "occurred_at": at.isoformat(),
        "amount": amount,
        "credit_limit": limit,
        "payee_card": card_number(random.Random(payee_seed + customer)),
        **_person(customer, birth_year),
    }
    if on_call is not None:
        event["on_call"] = on_call
    event.update(extra)
    return event
