"""The honest loan life, one customer-day at a time.

A new customer registers, binds a card, applies (employer, income, address, contacts) and
is seen in one or two bureau inquiries; most are granted a line. From then on, on any day:
logins with some page views, purchases paid with the line at shops of their city (or of
the city they are travelling in; a few of thousands of yuan), now and then a drawdown to
their own card (a few of the whole line, a few paid straight to a seller, some made during
a phone call), instalments
repaid on the due day of the month — except the few defaulters, who are credit risk, not
fraud, and repay late or not at all. Devices and app versions change, phones are replaced,
people travel for a few days, movers settle in a new city, and credit shoppers are seen
inquiring at several lenders in a month and apply again. Every event here is `normal`.
"""

from __future__ import annotations

import random

from tianwang.sim.emit import event, moment, odd_fen, round_yuan, where
from tianwang.sim.ids import card_number, mobile
from tianwang.sim.population import BANKS, CITIES, Customer, World

Out = list  # of (epoch seconds, event dict)
SELLERS = [("装修", "美居装饰工程有限公司"), ("教育", "新东方培训学校"), ("医疗", "和美口腔门诊部"), ("消费", "苏宁易购门店")]


def live_day(c: Customer, day: int, t0: int, dom: int, weekday: int, rng: random.Random, world: World, out: Out) -> None:
    """Append `c`'s honest events of day `day` (starting at epoch `t0`, day of month `dom`) to `out`."""
    if day < c.reg_day:
        return
    if c.away is not None and day >= c.away_until:
        c.away = None
    if day == c.reg_day:
        _onboard(c, t0, t0 + moment(c, rng), weekday, rng, world, out)
        return
    if c.group == "mover" and c.plan and day == c.plan[0]:
        _move(c, t0 + moment(c, rng), weekday, rng, world, out)
    elif c.away is None and rng.random() < 0.006:
        c.away = rng.randrange(len(CITIES))
        c.away = None if c.away == c.home else c.away
        c.away_until = day + rng.randint(2, 6)
    if c.group == "multi_lender_shopper" and day in c.plan:
        _inquiry(c, t0 + moment(c, rng), weekday, rng, world, out)
        if day == c.plan[-1]:
            _apply(c, t0 + moment(c, rng) + 1800, weekday, rng, world, out, rng.choice([3_000_000, 5_000_000, 8_000_000]))
    if rng.random() < 0.002:  # a new phone handset
        c.device = f"d{rng.getrandbits(64):016x}"
    if rng.random() < 0.004:  # the app updates itself
        c.app = f"5.{min(9, int(c.app.split('.')[1]) + 1)}.0"
    if rng.random() < 0.001:
        t = t0 + moment(c, rng)
        old, c.phone = c.phone, mobile(rng)
        out.append((t, event(c, "change_phone", _at(c, t, t0, weekday, rng, world), old_phone=old)))
    if rng.random() < 0.22:
        t = t0 + moment(c, rng)
        out.append((t, event(c, "login", _at(c, t, t0, weekday, rng, world), result="success",
                             method=rng.choice(["token", "token", "password", "sms", "face"]))))
        if rng.random() < 0.5:
            out.append((t + rng.randint(5, 120), event(c, "behavior", _at(c, t, t0, weekday, rng, world),
                                                       event_type=rng.choice(["page_view", "click", "page_view"]),
                                                       url=rng.choice(["/home", "/loan", "/bill", "/mall"]),
                                                       duration_ms=rng.randint(300, 60_000))))
    if c.limit:
        if rng.random() < 0.08:
            t = t0 + moment(c, rng)
            at = _at(c, t, t0, weekday, rng, world)
            mid, mcc = rng.choice(world.merchants)
            big = rng.random() < 0.03  # now and then a phone, a sofa, a course: thousands of yuan
            amount = odd_fen(rng, 1000, 15000) if big else odd_fen(rng, 8, 800)
            out.append((t, event(c, "payment", at, amount=amount, merchant_id=mid, merchant_category=mcc,
                                 order_id=f"o{rng.getrandbits(48):012x}", merchant_city=CITIES[at[3]][0])))
        if c.loan is None and rng.random() < 0.012:
            _drawdown(c, t0 + moment(c, rng), t0, dom, weekday, rng, world, out)
        elif c.loan is not None and (dom == c.loan[2] or (c.loan[4] is not None and rng.random() < 0.04)):
            _repay(c, t0 + moment(c, rng), t0, day, weekday, rng, world, out)


def _at(c, t, t0, weekday, rng, world):
    return where(c, world, rng, (t - t0) // 3600, weekday)


def _onboard(c: Customer, t0: int, t: int, weekday: int, rng: random.Random, world: World, out: Out) -> None:
    at = where(c, world, rng, (t - t0) // 3600, weekday)
    out.append((t, event(c, "register", at)))
    t += rng.randint(60, 600)
    out.append((t, event(c, "bind_card", at, card_no=c.card, bank=c.bank, card_phone=c.phone)))
    t += rng.randint(60, 900)
    requested = rng.choice([1_000_000, 2_000_000, 3_000_000, 5_000_000])
    _apply(c, t, weekday, rng, world, out, requested, at=at)
    if rng.random() < 0.85:
        c.limit = round_yuan(int(requested * rng.uniform(0.4, 1.0)), 1000)
        if rng.random() < 0.5:
            _drawdown(c, t + rng.randint(300, 7200), t0, -1, weekday, rng, world, out)


def _apply(c, t, weekday, rng, world, out, amount, at=None) -> None:
    at = at or where(c, world, rng, 12, weekday)
    out.append((t, event(c, "apply", at, amount=amount, product="consumer_loan", term_months=rng.choice([3, 6, 12]),
                         employer=c.employer, address=f"{CITIES[c.home][0]}市{rng.randint(1, 999)}号",
                         home_city=CITIES[c.home][0], monthly_income=c.income, education=c.education,
                         marital_status=c.marital, purpose=rng.choice(["消费", "装修", "旅游", "教育"]),
                         contacts=c.contacts)))
    out.append((t + rng.randint(2, 30), event(c, "inquiry", at, institution_id="self", institution_type="consumer_finance",
                                              inquiry_type="loan_approval", amount=amount)))


def _inquiry(c, t, weekday, rng, world, out) -> None:
    inst, kind = rng.choice(world.institutions)
    out.append((t, event(c, "inquiry", where(c, world, rng, 12, weekday), institution_id=inst,
                         institution_type=kind, inquiry_type=rng.choice(["loan_approval", "credit_card"]),
                         amount=rng.choice([2_000_000, 5_000_000, 10_000_000, 30_000_000]))))


def _drawdown(c, t, t0, dom, weekday, rng, world, out) -> None:
    """A drawdown to the customer's own card, mostly a modest share of the line.

    The hard cases a naive scam rule would stop: a few take (nearly) the whole line, a few
    are paid straight to a seller (受托支付: a decoration firm, a school, a hospital — a
    third party's card and name), and Android users are sometimes on a phone call.
    """
    share = rng.uniform(0.9, 1.0) if rng.random() < 0.06 else rng.uniform(0.1, 0.6)
    amount = round_yuan(int(c.limit * share), 100)
    term = rng.choice([3, 6, 12])
    c.loans += 1
    loan_id = f"{c.cid}-L{c.loans}"
    due = min(dom, 28) if dom > 0 else rng.randint(1, 28)
    c.loan = [loan_id, amount, due, term, None]  # id, principal, due day of month, instalments left, day missed
    purpose = rng.choice(["消费", "装修", "旅游", "医疗"])
    payee = {"payee_card": c.card, "payee_name": c.name}
    if rng.random() < 0.04:
        purpose, seller = rng.choice(SELLERS)
        payee = {"payee_card": card_number(rng, bin=rng.choice(BANKS)[0]), "payee_name": seller}
    if not c.ios and rng.random() < 0.03:  # the Android app sees the phone call; iOS does not
        payee["on_call"] = True
    out.append((t, event(c, "drawdown", _at(c, t, t0, weekday, rng, world), amount=amount, loan_id=loan_id,
                         credit_limit=c.limit, term_months=term, purpose=purpose, **payee)))


def _repay(c, t, t0, day, weekday, rng, world, out) -> None:
    loan_id, principal, due, left, missed = c.loan
    if missed is None and c.defaulter and rng.random() < 0.8:  # missed: credit risk, not fraud
        c.loan[4] = day
        return
    amount = principal // max(left, 1) + principal * 12 // 1000  # instalment plus about 1.2% interest a month
    out.append((t, event(c, "repay", _at(c, t, t0, weekday, rng, world), amount=amount, loan_id=loan_id,
                         overdue_days=0 if missed is None else day - missed)))
    c.loan[3] -= 1
    c.loan[4] = None
    if c.loan[3] <= 0:
        c.loan = None


def _move(c: Customer, t: int, weekday: int, rng: random.Random, world: World, out: Out) -> None:
    city = rng.randrange(len(CITIES))
    c.home = city if city != c.home else (city + 1) % len(CITIES)
    c.lat = round(CITIES[c.home][2] + rng.uniform(-0.08, 0.08), 5)
    c.lon = round(CITIES[c.home][3] + rng.uniform(-0.08, 0.08), 5)
    c.ip = world.home_ip(rng, c.home)
    c.away = None
    at = where(c, world, rng, 12, weekday)
    out.append((t, event(c, "login", at, result="success", method="password")))
    if rng.random() < 0.5:  # a local number in the new city
        old, c.phone = c.phone, mobile(rng)
        out.append((t + 120, event(c, "change_phone", at, old_phone=old)))
    if rng.random() < 0.3:
        bin_, c.bank = rng.choice(BANKS)
        c.card = card_number(rng, bin=bin_)
        out.append((t + 300, event(c, "bind_card", at, card_no=c.card, bank=c.bank, card_phone=c.phone)))
