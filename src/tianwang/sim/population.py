"""The synthetic lender's world and customers: cities, employers, campuses, merchants, people.

A `World` holds the fixed geography (cities with real area codes, coordinates and IP
ranges), the big employer, campuses and merchants. `build_population` draws the honest
customers in index order from one seeded RNG, including the hard-normal groups a naive
rule would stop: students behind a campus IP, families of 2–3 sharing one device, the
big employer's staff behind the office IP, people who move city, and honest customers
shopping for credit at several lenders. `Customer` is compact (slots) and carries the
mutable state of its loan life, which `sim.life` advances one day at a time.
"""

from __future__ import annotations

import random

from tianwang.sim.ids import card_number, id_number, mobile

# name, area code, lat, lon, first two octets of its broadband IPs
CITIES = [
    ("北京", "110105", 39.93, 116.45, "123.120"), ("上海", "310115", 31.22, 121.54, "116.228"),
    ("广州", "440106", 23.13, 113.36, "113.108"), ("深圳", "440305", 22.54, 113.93, "119.123"),
    ("成都", "510107", 30.64, 104.08, "171.221"), ("武汉", "420106", 30.55, 114.30, "111.175"),
    ("杭州", "330106", 30.27, 120.13, "122.224"), ("西安", "610113", 34.23, 108.95, "113.200"),
    ("南京", "320106", 32.06, 118.78, "180.110"), ("重庆", "500103", 29.55, 106.55, "106.84"),
    ("郑州", "410105", 34.75, 113.65, "123.52"), ("昆明", "530102", 25.04, 102.71, "116.52"),
    ("哈尔滨", "230103", 45.75, 126.65, "112.100"), ("乌鲁木齐", "650102", 43.82, 87.61, "110.157"),
]
EMPLOYERS = ["中国移动", "国家电网", "招商银行", "美团", "顺丰速运", "万科物业", "京东物流", "比亚迪",
             "海底捞", "中国平安", "个体经营", "自由职业", "某某贸易有限公司", "市第一人民医院", "区实验小学"]
BIG_EMPLOYER = "华为技术有限公司"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志鹏宇浩然子轩欣怡梓涵"
BANKS = [("622202", "工商银行"), ("621700", "建设银行"), ("622848", "农业银行"), ("621661", "中国银行"),
         ("622588", "招商银行"), ("622262", "交通银行")]
NORMAL_MCC = ["5411", "5812", "5999", "4121", "5541", "5311", "5651", "5912", "7832", "4111"]
NEWCOMER_DAYS = 60  # a long run's newcomers arrive in its first two months, not one a week for years
GROUPS = ("campus", "family", "big_employer", "mover", "multi_lender_shopper")


def jitter(rng: random.Random, x: float, d: float) -> float:
    return round(x + rng.uniform(-d, d), 5)


class World:
    """The fixed places a run happens in, drawn once from the seed."""

    def __init__(self, rng: random.Random):
        self.cities = CITIES
        # campuses: a city, a handful of dorm NAT IPs, a GPS point
        self.campuses = []
        for k, city in enumerate((0, 4, 5, 7)):
            base = f"{CITIES[city][4]}.{rng.randint(0, 255)}"
            self.campuses.append((city, [f"{base}.{rng.randint(1, 254)}" for _ in range(3)],
                                  jitter(rng, CITIES[city][2], 0.05), jitter(rng, CITIES[city][3], 0.05)))
        city = 3  # the big employer's campus in Shenzhen: few office IPs, one GPS cell
        base = f"{CITIES[city][4]}.{rng.randint(0, 255)}"
        self.office = (city, [f"{base}.{rng.randint(1, 254)}" for _ in range(4)],
                       jitter(rng, CITIES[city][2], 0.05), jitter(rng, CITIES[city][3], 0.05))
        self.merchants = [(f"m{k:05d}", rng.choice(NORMAL_MCC)) for k in range(2000)]
        self.institutions = [(f"inst-{k:03d}", rng.choice(["bank", "consumer_finance", "microloan", "p2p", "other"]))
                             for k in range(60)]

    def home_ip(self, rng: random.Random, city: int) -> str:
        return f"{CITIES[city][4]}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"

    def person(self, rng: random.Random, cid: str, city: int, *, birth_year: int | None = None,
               region: str | None = None) -> "Customer":
        """A fresh identity living in `city` (born where `region` says, default there too)."""
        c = Customer()
        c.cid = cid
        c.gender = rng.random() < 0.5
        c.name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
        c.birth_year = birth_year or int(min(2004, max(1955, rng.gauss(1988, 10))))
        c.id_number = id_number(rng, region=region or CITIES[city][1], birth_year=c.birth_year)
        c.phone = mobile(rng)
        c.device = f"d{rng.getrandbits(64):016x}"
        c.ios = rng.random() < 0.3
        c.app = f"5.{rng.randint(0, 3)}.{rng.randint(0, 9)}"
        c.home = city
        c.lat, c.lon = jitter(rng, CITIES[city][2], 0.08), jitter(rng, CITIES[city][3], 0.08)
        c.ip = self.home_ip(rng, city)
        bin_, c.bank = rng.choice(BANKS)
        c.card = card_number(rng, bin=bin_)
        c.employer = rng.choice(EMPLOYERS)
        c.income = rng.randint(30, 300) * 10_000
        c.education = rng.choice(["secondary", "college", "bachelor", "bachelor", "master"])
        c.marital = "single" if c.birth_year > 1995 else rng.choice(["married", "married", "single", "divorced"])
        c.contacts = [{"phone": mobile(rng), "relation": r} for r in rng.sample(["parent", "friend", "sibling", "colleague"], 2)]
        c.peak = rng.choice([9, 12, 13, 19, 20, 21, 22]) if rng.random() > 0.04 else 1  # a few night owls
        c.reg_day = -1
        c.limit = 0
        c.loan = None
        c.loans = 0
        c.defaulter = False
        c.away = None
        c.away_until = -1
        c.work = None
        c.group = None
        c.plan = ()
        return c


class Customer:
    """One person and the state of their loan life (see `sim.life`)."""

    __slots__ = ("cid", "name", "gender", "birth_year", "id_number", "phone", "device", "ios", "app", "home",
                 "lat", "lon", "ip", "card", "bank", "employer", "income", "education", "marital", "contacts",
                 "peak", "reg_day", "limit", "loan", "loans", "defaulter", "away", "away_until", "work",
                 "group", "plan")

    @property
    def os(self) -> str:
        return "iOS 17" if self.ios else "Android 13"


def build_population(n: int, days: int, rng: random.Random, world: World) -> list[Customer]:
    """`n` honest customers: ~70% long-standing (with a credit line), the rest registering in the run."""
    out: list[Customer] = []
    while len(out) < n:
        i = len(out)
        city = rng.choices(range(len(CITIES)), weights=[9, 9, 7, 7, 6, 6, 5, 5, 5, 5, 4, 3, 3, 2])[0]
        r = rng.random()
        region = None if rng.random() < 0.7 else rng.choice(CITIES)[1]
        if r < 0.05:  # a family of 2-3 sharing one phone-as-device and home
            size = min(rng.randint(2, 3), n - i)
            if size < 2:
                r = 1.0
            else:
                members = [world.person(rng, f"c{i + k:07d}", city, region=region) for k in range(size)]
                head = members[0]
                for k, m in enumerate(members):
                    m.device, m.ip, m.lat, m.lon, m.ios, m.app = head.device, head.ip, head.lat, head.lon, head.ios, head.app
                    m.group = "family"
                    if k:
                        m.birth_year = head.birth_year + rng.choice([-2, 1, 25, -25])
                        m.birth_year = min(2004, max(1950, m.birth_year))
                        m.id_number = id_number(rng, region=head.id_number[:6], birth_year=m.birth_year)
                        m.contacts = [{"phone": head.phone, "relation": rng.choice(["spouse", "parent", "child"])}]
                        head.contacts.append({"phone": m.phone, "relation": "relative"})
                        m.employer = head.employer if rng.random() < 0.3 else m.employer
                _life_start(members, days, rng)
                out.extend(members)
                continue
        c = world.person(rng, f"c{i:07d}", city, region=region)
        if r < 0.09:  # students behind their campus NAT
            campus = rng.choice(world.campuses)
            c.home, c.group = campus[0], "campus"
            c.birth_year = rng.randint(2002, 2007)
            c.id_number = id_number(rng, region=rng.choice(CITIES)[1], birth_year=c.birth_year)
            c.ip, c.lat, c.lon = rng.choice(campus[1]), jitter(rng, campus[2], 0.004), jitter(rng, campus[3], 0.004)
            c.employer, c.income, c.education, c.marital = "学生", rng.randint(10, 30) * 10_000, "bachelor", "single"
        elif r < 0.13:  # the big employer's staff: office IP and cell on working hours
            c.home, c.group, c.employer = world.office[0], "big_employer", BIG_EMPLOYER
            c.lat, c.lon, c.ip = jitter(rng, CITIES[3][2], 0.08), jitter(rng, CITIES[3][3], 0.08), world.home_ip(rng, 3)
            c.work = world.office
            c.income = rng.randint(120, 600) * 10_000
        elif r < 0.15 and days > 2:
            c.group = "mover"
            c.plan = (rng.randrange(1, days),)
        elif r < 0.18:
            c.group = "multi_lender_shopper"
            c.plan = tuple(sorted(rng.sample(range(days), min(days, rng.randint(3, 6)))))
        _life_start([c], days, rng)
        out.append(c)
    return out


def _life_start(members: list[Customer], days: int, rng: random.Random) -> None:
    for c in members:
        if rng.random() < 0.7 or c.group == "multi_lender_shopper":
            c.reg_day = -rng.randint(30, 1500)
            c.limit = rng.choice([500_000, 1_000_000, 2_000_000, 3_000_000, 5_000_000, 10_000_000])
            if rng.random() < 0.5:  # a loan being repaid: id, principal, due day, instalments left, day missed
                c.loans = 1
                c.loan = [f"{c.cid}-L1", c.limit // rng.choice([2, 4]), rng.randint(1, 28), rng.randint(1, 11), None]
        else:
            c.reg_day = rng.randrange(min(days, NEWCOMER_DAYS))
        c.defaulter = rng.random() < 0.03
