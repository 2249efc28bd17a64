"""Attacks on the lender, each a function of (context, day start, rng) → timed events.

`ATTACKS` maps each attack type (the label its events carry, the same tags the policy
bundle uses) to its generator and its base rate in cases per 10,000 customers per day;
`plan` turns rates, the `volume` knob and the run's size into the days each case starts
(at least one case of every type whose volume is above zero). Besides the organised ones
in `sim.rings`:

- identity_theft: a long-standing customer's account taken over (new device, phone, city
  far away, at night: login, change_phone, a new card, a large drawdown), or an
  application in their name under a new customer id from a new device and region;
- forged_info: applicants whose employer, income, age, education, address, city and
  contacts do not hang together;
- multi_borrowing: inquiries at 8–15 institutions within days, then an application;
- telecom_scam: a long-standing customer, most often older, draws most of the line to a
  "safe account" in a stranger's name while on a call (which only the Android app can see;
  sometimes with screen sharing), often at an odd hour;
- cash_out: a drawdown, then round payments at a colluding merchant minutes later;
- far_from_home: a large application and drawdown far from the applicant's home and
  birthplace;
- abnormal_consumption: a night burst of large payments at unusual merchants.
"""

from __future__ import annotations

import math
import random

from tianwang.sim import rings
from tianwang.sim.emit import event, round_yuan
from tianwang.sim.ids import card_number, mobile
from tianwang.sim.population import CITIES, Customer, World, jitter


class Context:
    """What attacks share: the world, the honest population (for victims), id counters."""

    def __init__(self, world: World, population: list[Customer], seed: int, adaptive: bool = True):
        self.world, self.population, self.adaptive = world, population, adaptive
        self.feedback = None  # sim.rings.Feedback: what rings learn of the decisions (None: offline)
        self.seed = seed
        self._fraud = 0
        self._cases: dict[str, int] = {}

    def fraud_id(self) -> str:
        self._fraud += 1
        return f"f{self._fraud:07d}"

    def case(self, kind: str) -> str:
        self._cases[kind] = self._cases.get(kind, 0) + 1
        return f"{kind}-{self._cases[kind]:05d}"

    def victim(self, rng: random.Random, *, max_birth_year: int = 2010) -> Customer | None:
        """A long-standing customer with a credit line (older ones first when asked)."""
        pop = self.population
        for _ in range(200):
            c = pop[rng.randrange(len(pop))]
            if c.reg_day < 0 and c.limit and c.birth_year <= max_birth_year:
                return c
        return None


def _far(rng: random.Random, city: int) -> int:
    """A city at least ~1,000 km from `city`."""
    lat, lon = CITIES[city][2], CITIES[city][3]
    far = [k for k, c in enumerate(CITIES) if abs(c[2] - lat) + abs(c[3] - lon) > 10]
    return rng.choice(far or [k for k in range(len(CITIES)) if k != city])


def _away(rng: random.Random, world: World, city: int) -> tuple:
    return (world.home_ip(rng, city), jitter(rng, CITIES[city][2], 0.05), jitter(rng, CITIES[city][3], 0.05), city)


def identity_theft(ctx: Context, t0: int, rng: random.Random) -> list:
    v = ctx.victim(rng)
    if v is None:
        return []
    case = ctx.case("idt")
    city = _far(rng, v.home)
    at = _away(rng, ctx.world, city)
    t = t0 + rng.choice([0, 1, 2, 3, 22, 23]) * 3600 + rng.randrange(3600)
    thief = ctx.world.person(rng, v.cid, city)
    thief.id_number, thief.name, thief.birth_year = v.id_number, v.name, v.birth_year
    if rng.random() < 0.6:  # account takeover
        thief.phone = v.phone
        out = [(t, event(thief, "login", at, "identity_theft", result="fail", method="password", attack_id=case)),
               (t + 40, event(thief, "login", at, "identity_theft", result="success", method="sms", attack_id=case))]
        new = mobile(rng)
        out.append((t + 200, event(thief, "change_phone", at, "identity_theft", attack_id=case, old_phone=v.phone) | {"phone": new}))
        thief.phone = new
        card = card_number(rng, bin="621700")  # a mule's card, in the mule's name
        out.append((t + 400, event(thief, "bind_card", at, "identity_theft", card_no=card, attack_id=case)))
        out.append((t + 600, event(thief, "drawdown", at, "identity_theft", amount=round_yuan(int(v.limit * 0.95)),
                                   credit_limit=v.limit, payee_card=card, payee_name=ctx.world.person(rng, "mule", city).name,
                                   attack_id=case)))
        return out
    thief.cid = ctx.fraud_id()  # an application in the victim's name
    return [(t, event(thief, "register", at, "identity_theft", attack_id=case)),
            (t + 300, event(thief, "bind_card", at, "identity_theft", card_no=thief.card, attack_id=case)),
            (t + 700, event(thief, "apply", at, "identity_theft", amount=5_000_000, employer=v.employer,
                            monthly_income=v.income, home_city=CITIES[v.home][0], contacts=thief.contacts,
                            attack_id=case))]


def forged_info(ctx: Context, t0: int, rng: random.Random) -> list:
    case = ctx.case("forged")
    city = rng.randrange(len(CITIES))
    p = ctx.world.person(rng, ctx.fraud_id(), city, birth_year=rng.randint(1998, 2005))
    at = _away(rng, ctx.world, city)
    fields = {"amount": 5_000_000, "employer": p.employer, "monthly_income": p.income, "home_city": CITIES[city][0],
              "education": p.education, "address": f"{CITIES[city][0]}市{rng.randint(1, 999)}号", "contacts": p.contacts}
    lies = rng.sample(["employer", "income", "education", "address", "contacts", "home_city"], rng.randint(2, 4))
    if "employer" in lies:
        fields["employer"] = rng.choice(["华为技术有限公司", "腾讯科技", "国家电网", "中国银行总行"])
    if "income" in lies:
        fields["monthly_income"] = rng.choice([8_000_000, 10_000_000, 20_000_000])
    if "education" in lies:
        fields["education"] = "doctor"
    if "address" in lies:
        fields["address"] = f"{CITIES[_far(rng, city)][0]}市{rng.randint(1, 999)}号"
    if "home_city" in lies:
        fields["home_city"] = CITIES[_far(rng, city)][0]
    if "contacts" in lies:
        base = int(p.phone[3:])
        fields["contacts"] = [{"phone": p.phone, "relation": "parent"},
                              {"phone": f"{p.phone[:3]}{(base + 1) % 10**8:08d}", "relation": "spouse"},
                              {"phone": f"{p.phone[:3]}{(base + 2) % 10**8:08d}", "relation": "spouse"}]
    t = t0 + rng.randrange(8 * 3600, 23 * 3600)
    tag = {"attack_id": case, "forged": sorted(lies)}
    return [(t, event(p, "register", at, "forged_info", **tag)),
            (t + 200, event(p, "bind_card", at, "forged_info", card_no=p.card, **tag)),
            (t + 500, event(p, "apply", at, "forged_info", **fields, **tag))]


def at_home(v, rng: random.Random) -> tuple:
    """Where a victim is when the attack happens in their own name: home IP, near home."""
    return (v.ip, jitter(rng, v.lat, 0.002), jitter(rng, v.lon, 0.002), v.home)


def multi_borrowing(ctx: Context, t0: int, rng: random.Random) -> list:
    v = ctx.victim(rng)
    if v is None:
        return []
    case = ctx.case("multi")
    at = at_home(v, rng)
    t = t0 + rng.randrange(6 * 3600, 12 * 3600)
    out = []
    for inst, kind in rng.sample(ctx.world.institutions, rng.randint(8, 15)):
        t += rng.randint(600, 6 * 3600)
        out.append((t, event(v, "inquiry", at, "multi_borrowing", institution_id=inst, institution_type=kind,
                             inquiry_type="loan_approval", amount=rng.choice([2_000_000, 5_000_000]), attack_id=case)))
    out.append((t + 3600, event(v, "apply", at, "multi_borrowing", amount=10_000_000, employer=v.employer,
                                monthly_income=v.income, home_city=CITIES[v.home][0], contacts=v.contacts,
                                attack_id=case)))
    return out


def telecom_scam(ctx: Context, t0: int, rng: random.Random) -> list:
    """Mostly older victims, at any hour (often late), drawing most of the line to a stranger."""
    v = (ctx.victim(rng, max_birth_year=1975) if rng.random() < 0.7 else None) or ctx.victim(rng)
    if v is None:
        return []
    case = ctx.case("scam")
    at = at_home(v, rng)
    t = t0 + rng.choice([0, 1, 6, 10, 14, 16, 21, 22, 23, 23]) * 3600 + rng.randrange(3600)
    call = {"attack_id": case}
    if not v.ios:  # the Android app sees the phone call; iOS does not
        call["on_call"] = True
    if rng.random() < 0.4:
        call["remote_control"] = True
    payee = card_number(rng, bin=rng.choice(["621700", "622848", "623052"]))
    out = [(t, event(v, "login", at, "telecom_scam", result="success", method="sms", **call))]
    amount = round_yuan(int(v.limit * rng.choice([rng.uniform(0.9, 1.0), rng.uniform(0.6, 1.0)])))
    out.append((t + rng.randint(120, 600), event(v, "drawdown", at, "telecom_scam", amount=amount, credit_limit=v.limit,
                                                 payee_card=payee, payee_name=rng.choice(["刘安全", "王警官", "李专员"]),
                                                 **call)))
    return out


COLLUDING = [(f"m-cx-{k:02d}", mcc) for k, mcc in enumerate(["5944", "5732", "5311", "5094", "5999", "5944"])]


def cash_out(ctx: Context, t0: int, rng: random.Random) -> list:
    v = ctx.victim(rng)
    if v is None:
        return []
    case = ctx.case("cashout")
    at = at_home(v, rng)
    t = t0 + rng.randrange(9 * 3600, 22 * 3600)
    total = round_yuan(int(v.limit * rng.uniform(0.8, 1.0)), 1000)
    out = [(t, event(v, "drawdown", at, "cash_out", amount=total, credit_limit=v.limit, payee_card=v.card,
                     payee_name=v.name, attack_id=case))]
    mid, mcc = rng.choice(COLLUDING)
    n = rng.randint(2, 5)
    for k in range(n):
        t += rng.randint(60, 400)
        out.append((t, event(v, "payment", at, "cash_out", amount=round_yuan(total // n, 500), merchant_id=mid,
                             merchant_category=mcc, order_id=f"o{rng.getrandbits(48):012x}",
                             merchant_city=CITIES[v.home][0], attack_id=case)))
    return out


def far_from_home(ctx: Context, t0: int, rng: random.Random) -> list:
    case = ctx.case("far")
    home = rng.randrange(len(CITIES))
    city = _far(rng, home)
    p = ctx.world.person(rng, ctx.fraud_id(), home)
    at = _away(rng, ctx.world, city)
    amount = rng.choice([15_000_000, 20_000_000, 30_000_000])
    t = t0 + rng.randrange(8 * 3600, 22 * 3600)
    tag = {"attack_id": case}
    return [(t, event(p, "register", at, "far_from_home", **tag)),
            (t + 200, event(p, "bind_card", at, "far_from_home", card_no=p.card, **tag)),
            (t + 500, event(p, "apply", at, "far_from_home", amount=amount, employer=p.employer,
                            monthly_income=p.income, home_city=CITIES[home][0], contacts=p.contacts,
                            address=f"{CITIES[home][0]}市{rng.randint(1, 999)}号", **tag)),
            (t + 2400, event(p, "drawdown", at, "far_from_home", amount=amount, credit_limit=amount,
                             payee_card=p.card, payee_name=p.name, **tag))]


def abnormal_consumption(ctx: Context, t0: int, rng: random.Random) -> list:
    v = ctx.victim(rng)
    if v is None:
        return []
    case = ctx.case("abnormal")
    city = rng.choice([v.home, _far(rng, v.home)])
    at = _away(rng, ctx.world, city)
    t = t0 + rng.choice([0, 1, 2, 3, 23]) * 3600
    out = []
    for _ in range(rng.randint(4, 10)):
        t += rng.randint(60, 900)
        out.append((t, event(v, "payment", at, "abnormal_consumption", amount=rng.randint(3000, 20000) * 100 + rng.randint(0, 99),
                             merchant_id=f"m-odd-{rng.randint(0, 40):02d}", merchant_category=rng.choice(["7995", "5732", "5094", "4829"]),
                             order_id=f"o{rng.getrandbits(48):012x}", merchant_city=CITIES[city][0], attack_id=case)))
    return out


# type → (generator, cases per 10,000 customers per day at volume 1)
ATTACKS = {
    "batch_attack": (rings.batch_attack, 0.1),
    "intermediary": (rings.intermediary, 0.05),
    "identity_theft": (identity_theft, 0.3),
    "forged_info": (forged_info, 0.3),
    "multi_borrowing": (multi_borrowing, 0.3),
    "telecom_scam": (telecom_scam, 0.2),
    "cash_out": (cash_out, 0.2),
    "far_from_home": (far_from_home, 0.2),
    "abnormal_consumption": (abnormal_consumption, 0.2),
}


def daily_volume(customers: int, per_day: float = 1.0) -> dict[str, float]:
    """The `volume` that gives about `per_day` cases of every attack type a day.

    For long runs of a small population (the demo's `--forever`), where the base rates
    would leave days without a single attack.
    """
    return {kind: max(1.0, per_day * 10_000 / (rate * customers)) for kind, (_, rate) in ATTACKS.items()}


def plan(customers: int, days: int, rng: random.Random, volume: float | dict[str, float] = 1.0) -> list[list[str]]:
    """For each day, the attack types whose cases start that day."""
    by_day: list[list[str]] = [[] for _ in range(days)]
    for kind, (_, rate) in ATTACKS.items():
        v = volume.get(kind, 1.0) if isinstance(volume, dict) else volume
        if v <= 0 or days <= 0:
            continue
        n = max(1, math.floor(rate * customers / 10_000 * days * v + rng.random()))
        for _ in range(n):
            by_day[rng.randrange(days)].append(kind)
    return by_day
