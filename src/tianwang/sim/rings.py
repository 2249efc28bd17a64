"""Organised attacks: fraud rings (batch attacks) and loan intermediaries.

A **ring** (`batch_attack`) is 5–25 bought identities from many provinces worked from a
small farm: a few emulator devices, one proxy /24, one GPS cell, a shared pool of contact
numbers and a made-up employer. Applications come in pulses — a burst of members a minute
or two apart, then quiet for hours — and each approved member draws the maximum at once.

An **intermediary** (中介代办) fills in applications for 4–12 real people over a few days from
the agent's own phone and device, with the agent's number among every applicant's contacts
and the same polished employer/income story. Both carry `ring_id` on every event.

Both are made lazily, so they can react to what the lender decided: the first pulse (or
applicant) is returned at case start together with a *continuation* — a callable that
`sim.run` calls when the simulated clock reaches the next pulse, and that returns that
pulse's events and the continuation after it. Before each later pulse, an adaptive ring
asks the run's `Feedback` whether any of its events was stopped since it last asked, and if
so moves to a fresh farm (new emulators, a new /24); with no feedback connected (a log
written offline) it assumes it was seen and moves after every pulse. An intermediary
switches once to the agent's second phone after one of its applicants was stopped (only
when feedback is connected). Each case draws from its own RNG, seeded from the day's, and
draws every farm and the second phone whether it uses them or not: what the attackers learn
changes their devices and IPs, never who they are or when they act.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from tianwang.sim.emit import event
from tianwang.sim.ids import card_number, mobile
from tianwang.sim.population import CITIES, jitter

# The server's answers, least to most severe: the words of its API (as `decision.outcomes`
# has them), written here so the simulator reads only what a lender would see.
OUTCOMES = ("pass", "review", "verify", "delay", "reject")
# "Stopped": the event did not go through as asked (step-up check, money held, or refused).
STOPPED = frozenset(OUTCOMES[OUTCOMES.index("verify"):])

FAKE_EMPLOYERS = ["深圳某科技有限公司", "广州鑫达贸易有限公司", "成都恒通商务咨询", "个体经营", "上海宏远投资管理"]


class Feedback:
    """What attackers learn of the decisions on their events (`simulate(..., feedback=…)`).

    Whoever decides the events (a live server through `sim.feed`, a test) calls
    `observe(event, outcome)` with each answer; a case asks `stopped(attack_id)` before its
    next pulse. Not thread-safe: `sim.feed.LiveFeedback` is the threaded one.
    """

    def __init__(self) -> None:
        self._stopped: set[str] = set()

    def observe(self, event: dict, outcome: str | None) -> None:
        """Record the outcome of one event (None: no answer, e.g. an HTTP error)."""
        case = event.get("attack_id")
        if case is not None and outcome in STOPPED:
            self._stopped.add(case)

    def stopped(self, case: str) -> bool:
        """Whether an event of `case` was stopped since the case last asked."""
        if case in self._stopped:
            self._stopped.discard(case)
            return True
        return False


Items = list  # of (epoch seconds, event dict or continuation)
Continuation = Callable[[], Items]


def _seen(ctx, case: str) -> bool:
    feedback = ctx.feedback
    return True if feedback is None else feedback.stopped(case)


def batch_attack(ctx, t0: int, rng: random.Random) -> Items:
    ring = ctx.case("ring")
    r = random.Random(rng.getrandbits(64))
    size = r.randint(5, 25)
    city = r.randrange(len(CITIES))
    lat, lon = jitter(r, CITIES[city][2], 0.05), jitter(r, CITIES[city][3], 0.05)

    def farm():
        devices = [f"emu-{r.getrandbits(40):010x}" for _ in range(max(1, size // 6))]
        net = f"{r.randint(36, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}"
        return devices, [f"{net}.{r.randint(1, 254)}" for _ in range(3)]

    devices, ips = farm()
    contacts = [mobile(r) for _ in range(3)]
    employer = r.choice(FAKE_EMPLOYERS)
    amount = r.choice([2_000_000, 3_000_000, 5_000_000])
    per_pulse = -(-size // r.randint(2, 4))

    def pulse(t: int, first: int) -> Continuation:
        def run() -> Items:
            nonlocal devices, ips
            if first:
                fresh = farm()
                if ctx.adaptive and _seen(ctx, ring):
                    devices, ips = fresh
            out: Items = []
            start = t
            for _ in range(first, min(first + per_pulse, size)):
                s = start = start + r.randint(20, 150)
                p = ctx.world.person(r, ctx.fraud_id(), city, region=r.choice(CITIES)[1])
                p.device, p.app = r.choice(devices), "5.0.0"
                p.employer, p.income = employer, r.choice([1_500_000, 2_000_000])
                p.contacts = [{"phone": c, "relation": r.choice(["friend", "colleague"])} for c in r.sample(contacts, 2)]
                at = (r.choice(ips), jitter(r, lat, 0.003), jitter(r, lon, 0.003), city)
                common = {"ring_id": ring, "attack_id": ring, "emulator": True}
                if r.random() < 0.4:
                    common["rooted"] = True
                out.append((s, event(p, "register", at, "batch_attack", **common)))
                s += r.randint(15, 60)
                out.append((s, event(p, "bind_card", at, "batch_attack", card_no=p.card, bank=p.bank, **common)))
                s += r.randint(15, 90)
                out.append((s, event(p, "apply", at, "batch_attack", amount=amount, product="consumer_loan",
                                     term_months=12, employer=p.employer, monthly_income=p.income,
                                     home_city=CITIES[city][0], address=f"{CITIES[city][0]}市某路{r.randint(1, 30)}号",
                                     contacts=p.contacts, **common)))
                s += r.randint(600, 3600)  # approved: the maximum, at once
                out.append((s, event(p, "drawdown", at, "batch_attack", amount=amount, credit_limit=amount,
                                     payee_card=p.card, loan_id=f"{p.cid}-L1", **common)))
            if first + per_pulse < size:
                # hours after this pulse's last member, whose events span at most 3,750 s: a pulse's
                # events are all decided before the next pulse asks about them
                nxt = start + r.randint(2, 8) * 3600
                out.append((nxt, pulse(nxt, first + per_pulse)))
            return out
        return run

    return pulse(t0 + r.randrange(0, 20 * 3600), 0)()


def intermediary(ctx, t0: int, rng: random.Random) -> Items:
    ring = ctx.case("agent")
    r = random.Random(rng.getrandbits(64))
    city = r.randrange(len(CITIES))
    agent = ctx.world.person(r, "agent", city)
    second_phone = f"d{r.getrandbits(64):016x}"
    shop = (ctx.world.home_ip(r, city), agent.lat, agent.lon, city)
    income = r.choice([1_200_000, 1_500_000, 1_800_000])
    applicants = r.randint(4, 12)
    feedback = ctx.feedback

    def applicant(t: int, k: int) -> Continuation:
        def run() -> Items:
            if k and feedback is not None and agent.device != second_phone and feedback.stopped(ring):
                agent.device = second_phone
            p = ctx.world.person(r, ctx.fraud_id(), city)
            p.device, p.ios, p.app = agent.device, agent.ios, agent.app
            p.employer, p.income = r.choice(["个体经营", "自由职业", "某某贸易有限公司"]), income
            p.contacts = [{"phone": agent.phone, "relation": "friend"}, p.contacts[0]]
            at = (shop[0], jitter(r, shop[1], 0.001), jitter(r, shop[2], 0.001), city)
            tag = {"ring_id": ring, "attack_id": ring}
            out: Items = [
                (t, event(p, "register", at, "intermediary", **tag)),
                (t + 240, event(p, "bind_card", at, "intermediary", card_no=p.card, bank=p.bank, **tag)),
                (t + 600, event(p, "apply", at, "intermediary", amount=5_000_000, product="consumer_loan",
                                term_months=12, employer=p.employer, monthly_income=income, education="college",
                                home_city=CITIES[city][0], address=f"{CITIES[city][0]}市{r.randint(1, 999)}号",
                                contacts=p.contacts, **tag)),
            ]
            # half the time the money goes to the agent's card (the fee taken first), else the applicant's
            payee = (agent.card, agent.name) if r.random() < 0.5 else (p.card, p.name)
            out.append((t + 1800 + r.randint(0, 3600), event(p, "drawdown", at, "intermediary", amount=4_500_000,
                                                             credit_limit=5_000_000, payee_card=payee[0],
                                                             payee_name=payee[1], **tag)))
            if k + 1 < applicants:
                nxt = t + r.randint(20, 180) * 60
                out.append((nxt, applicant(nxt, k + 1)))
            return out
        return run

    return applicant(t0 + r.randint(9, 12) * 3600 + r.randint(20, 180) * 60, 0)()
