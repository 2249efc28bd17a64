"""Organised attacks: fraud rings (batch attacks) and loan intermediaries.

A **ring** (`batch_attack`) is 5–25 bought identities from many provinces worked from a
small farm: a few emulator devices, one proxy /24, one GPS cell, a shared pool of contact
numbers and a made-up employer. Applications come in pulses — a burst of members a minute
or two apart, then quiet for hours — and each approved member draws the maximum at once.
An adaptive ring rotates to fresh devices and a fresh /24 after each pulse.

An **intermediary** (中介代办) fills in applications for 4–12 real people over a few days from
the agent's own phone and device, with the agent's number among every applicant's contacts
and the same polished employer/income story. Both carry `ring_id` on every event.
"""

from __future__ import annotations

import random

from tianwang.sim.emit import event
from tianwang.sim.ids import card_number, mobile
from tianwang.sim.population import CITIES, jitter

FAKE_EMPLOYERS = ["深圳某科技有限公司", "广州鑫达贸易有限公司", "成都恒通商务咨询", "个体经营", "上海宏远投资管理"]


def batch_attack(ctx, t0: int, rng: random.Random) -> list:
    ring = ctx.case("ring")
    size = rng.randint(5, 25)
    city = rng.randrange(len(CITIES))
    lat, lon = jitter(rng, CITIES[city][2], 0.05), jitter(rng, CITIES[city][3], 0.05)

    def farm():
        devices = [f"emu-{rng.getrandbits(40):010x}" for _ in range(max(1, size // 6))]
        net = f"{rng.randint(36, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}"
        return devices, [f"{net}.{rng.randint(1, 254)}" for _ in range(3)]

    devices, ips = farm()
    contacts = [mobile(rng) for _ in range(3)]
    employer = rng.choice(FAKE_EMPLOYERS)
    amount = rng.choice([2_000_000, 3_000_000, 5_000_000])
    pulses = rng.randint(2, 4)
    t = t0 + rng.randrange(0, 20 * 3600)
    out = []
    for k in range(size):
        if k and k % -(-size // pulses) == 0:  # next pulse: hours later, maybe from a fresh farm
            t += rng.randint(2, 8) * 3600
            if ctx.adaptive:
                devices, ips = farm()
        t += rng.randint(20, 150)
        p = ctx.world.person(rng, ctx.fraud_id(), city, region=rng.choice(CITIES)[1])
        p.device, p.app = rng.choice(devices), "5.0.0"
        p.employer, p.income = employer, rng.choice([1_500_000, 2_000_000])
        p.contacts = [{"phone": c, "relation": rng.choice(["friend", "colleague"])} for c in rng.sample(contacts, 2)]
        at = (rng.choice(ips), jitter(rng, lat, 0.003), jitter(rng, lon, 0.003), city)
        common = {"ring_id": ring, "attack_id": ring, "emulator": True}
        if rng.random() < 0.4:
            common["rooted"] = True
        s = t
        out.append((s, event(p, "register", at, "batch_attack", **common)))
        s += rng.randint(15, 60)
        out.append((s, event(p, "bind_card", at, "batch_attack", card_no=p.card, bank=p.bank, **common)))
        s += rng.randint(15, 90)
        out.append((s, event(p, "apply", at, "batch_attack", amount=amount, product="consumer_loan", term_months=12,
                             employer=p.employer, monthly_income=p.income, home_city=CITIES[city][0],
                             address=f"{CITIES[city][0]}市某路{rng.randint(1, 30)}号", contacts=p.contacts, **common)))
        s += rng.randint(600, 3600)
        out.append((s, event(p, "drawdown", at, "batch_attack", amount=amount, credit_limit=amount,
                             payee_card=p.card, loan_id=f"{p.cid}-L1", **common)))
    return out


def intermediary(ctx, t0: int, rng: random.Random) -> list:
    ring = ctx.case("agent")
    city = rng.randrange(len(CITIES))
    agent = ctx.world.person(rng, "agent", city)
    shop = (ctx.world.home_ip(rng, city), agent.lat, agent.lon, city)
    income = rng.choice([1_200_000, 1_500_000, 1_800_000])
    out = []
    t = t0 + rng.randint(9, 12) * 3600
    for k in range(rng.randint(4, 12)):
        t += rng.randint(20, 180) * 60
        p = ctx.world.person(rng, ctx.fraud_id(), city)
        p.device, p.ios, p.app = agent.device, agent.ios, agent.app
        p.employer, p.income = rng.choice(["个体经营", "自由职业", "某某贸易有限公司"]), income
        p.contacts = [{"phone": agent.phone, "relation": "friend"}, p.contacts[0]]
        at = (shop[0], jitter(rng, shop[1], 0.001), jitter(rng, shop[2], 0.001), city)
        tag = {"ring_id": ring, "attack_id": ring}
        out.append((t, event(p, "register", at, "intermediary", **tag)))
        out.append((t + 240, event(p, "bind_card", at, "intermediary", card_no=p.card, bank=p.bank, **tag)))
        out.append((t + 600, event(p, "apply", at, "intermediary", amount=5_000_000, product="consumer_loan",
                                   term_months=12, employer=p.employer, monthly_income=income, education="college",
                                   home_city=CITIES[city][0], address=f"{CITIES[city][0]}市{rng.randint(1, 999)}号",
                                   contacts=p.contacts, **tag)))
        payee = card_number(rng, bin="621700")
        out.append((t + 1800 + rng.randint(0, 3600), event(p, "drawdown", at, "intermediary", amount=4_500_000,
                                                           credit_limit=5_000_000, payee_card=payee, **tag)))
    return out
