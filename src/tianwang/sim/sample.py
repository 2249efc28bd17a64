"""A small labelled day of lender traffic for `make demo` (the full simulator is larger).

Honest customers live whole loan lives; beside them, one of each common attack: a batch
attack from one emulator farm, a loan intermediary, an impersonation, multi-borrowing, a
telecom-scam victim and a cash-out. Every event carries its ground-truth `label` as an
extra attribute, which no policy reads.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from tianwang.sim.ids import card_number, id_number, mobile

CITIES = [("北京", "110105", 39.93, 116.45), ("上海", "310115", 31.22, 121.54), ("广州", "440106", 23.13, 113.36),
          ("成都", "510107", 30.64, 104.08), ("武汉", "420106", 30.55, 114.30), ("杭州", "330106", 30.27, 120.13)]
EMPLOYERS = ["华为技术", "中国移动", "国家电网", "招商银行", "美团", "顺丰速运", "万科物业", "个体经营"]


class Day:
    def __init__(self, seed: int = 7, start: datetime | None = None, prefix: str = "demo"):
        self.rng = random.Random(seed)
        self.prefix = prefix
        self.start = start or datetime(2026, 11, 24, 0, 0, tzinfo=timezone(timedelta(hours=8)))
        self.n = 0
        self.events: list[dict] = []

    def emit(self, label: str, scene: str, at: timedelta, person: dict, **fields) -> None:
        self.n += 1
        event = {
            "event_id": f"{self.prefix}-{self.n:05d}",
            "scene": scene,
            "occurred_at": (self.start + at).isoformat(),
            "customer_id": person["customer_id"],
            "device_id": person["device_id"],
            "ip": person["ip"],
            "phone": person["phone"],
            "id_number": person["id_number"],
            "gps": {"lat": person["lat"], "lon": person["lon"]},
            "city": person["city"],
            "channel": "app",
            "label": label,
        }
        event.update(fields)
        self.events.append(event)

    def person(self, i: int, *, city: int | None = None, birth_year: int | None = None) -> dict:
        rng = self.rng
        name, region, lat, lon = CITIES[city if city is not None else rng.randrange(len(CITIES))]
        return {
            "customer_id": f"c{i:05d}",
            "device_id": f"dev-{rng.getrandbits(48):012x}",
            "ip": f"{rng.randint(36, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            "phone": mobile(rng),
            "id_number": id_number(rng, region=region, birth_year=birth_year),
            "lat": lat + rng.uniform(-0.05, 0.05),
            "lon": lon + rng.uniform(-0.05, 0.05),
            "city": name,
            "card": card_number(rng),
        }


def sample_day(seed: int = 7, customers: int = 40, start: datetime | None = None, prefix: str = "demo") -> list[dict]:
    """The demo's events in time order, each with its `label`."""
    day = Day(seed, start, prefix)
    rng = day.rng
    people = [day.person(i) for i in range(customers)]
    for p in people:
        t = timedelta(hours=rng.uniform(7, 20))
        limit = rng.choice([1_000_000, 2_000_000, 5_000_000])
        day.emit("normal", "register", t, p)
        day.emit("normal", "bind_card", t + timedelta(minutes=3), p, card_no=p["card"])
        day.emit("normal", "apply", t + timedelta(minutes=6), p, amount=limit, employer=rng.choice(EMPLOYERS),
                 monthly_income=rng.randint(5, 30) * 100_000, home_city=p["city"],
                 contacts=[{"phone": mobile(rng), "relation": "parent"}, {"phone": mobile(rng), "relation": "friend"}])
        day.emit("normal", "drawdown", t + timedelta(minutes=40), p, amount=limit // 4, credit_limit=limit,
                 payee_card=p["card"])
        day.emit("normal", "payment", t + timedelta(hours=2), p, amount=rng.randint(30, 900) * 100 + rng.randint(1, 99),
                 merchant_id=f"m{rng.randint(1, 500)}", merchant_category=rng.choice(["5411", "5812", "5999", "4121"]))

    # A batch attack: an emulator farm behind one IP applies with many identities in minutes.
    farm_ip, farm_device = "61.135.22.9", "emu-farm-01"
    for k in range(12):
        p = day.person(1000 + k, city=3)
        p.update(ip=farm_ip, device_id=farm_device if k % 3 else f"emu-{k:02d}")
        t = timedelta(hours=2, minutes=3 * k)
        day.emit("batch_attack", "register", t, p, emulator=True)
        day.emit("batch_attack", "apply", t + timedelta(minutes=1), p, amount=2_000_000, emulator=True,
                 employer="深圳某科技有限公司", monthly_income=2_000_000, contacts=[{"phone": "13800000001", "relation": "friend"}])

    # A loan intermediary: one agent's phone and device fill in applications for many people.
    agent_phone, agent_device = mobile(rng), "agent-phone-7"
    for k in range(6):
        p = day.person(2000 + k, city=4)
        p["device_id"] = agent_device
        day.emit("intermediary", "apply", timedelta(hours=10, minutes=20 * k), p, amount=5_000_000,
                 contacts=[{"phone": agent_phone, "relation": "friend"}], employer="个体经营", monthly_income=1_500_000)

    # Impersonation: a real customer's identity from a new device, phone and city at night.
    victim = people[0]
    thief = dict(victim, device_id="dev-new-thief", phone=mobile(rng), ip="117.136.0.77", city="乌鲁木齐",
                 lat=43.82, lon=87.61)
    day.emit("identity_theft", "login", timedelta(hours=23, minutes=10), thief, result="success", method="sms")
    day.emit("identity_theft", "change_phone", timedelta(hours=23, minutes=12), thief, old_phone=victim["phone"])
    day.emit("identity_theft", "drawdown", timedelta(hours=23, minutes=20), thief, amount=900_000,
             credit_limit=1_000_000, payee_card=card_number(rng))

    # Multi-borrowing: after their own loan, inquiries at many institutions, then another application.
    borrower = people[1 % len(people)]
    for k in range(9):
        day.emit("multi_borrowing", "inquiry", timedelta(hours=22, minutes=5 * k), borrower,
                 institution_id=f"inst-{k}", institution_type="microloan")
    day.emit("multi_borrowing", "apply", timedelta(hours=23, minutes=30), borrower, amount=3_000_000)

    # A telecom-scam victim: an older, long-standing customer drains the line to a new payee on a call.
    elder = day.person(3000, birth_year=1958)
    day.emit("normal", "apply", timedelta(days=-80, hours=10), elder, amount=5_000_000)
    day.emit("normal", "drawdown", timedelta(days=-60, hours=11), elder, amount=800_000, credit_limit=5_000_000,
             payee_card=elder["card"])
    day.emit("normal", "repay", timedelta(days=-30, hours=9), elder, amount=820_000, overdue_days=0)
    day.emit("telecom_scam", "drawdown", timedelta(hours=22, minutes=47), elder, amount=4_900_000,
             credit_limit=5_000_000, payee_card=card_number(rng, bin="621700"), on_call=True)

    # Cash-out: a drawdown spent at once in round sums at one colluding merchant.
    casher = people[2 % len(people)]
    day.emit("cash_out", "drawdown", timedelta(hours=15), casher, amount=3_000_000, credit_limit=3_000_000,
             payee_card=casher["card"])
    for k in range(4):
        day.emit("cash_out", "payment", timedelta(hours=15, minutes=5 + 3 * k), casher, amount=700_000,
                 merchant_id="m-collude-1", merchant_category="5944")

    day.events.sort(key=lambda e: e["occurred_at"])
    return day.events
