"""Simulated device visits with ground truth, for the device bench and tests (`simulate_visits`).

Devices are of a popular make (the same phone, tablet or laptop model: identical canvas, webgl,
audio, screen and hardware, differing only in the user's fonts, languages, timezone, network —
some not even there) or one of a kind. Each visits at its own rate from its own start, in time
order across devices, and drifts: browser updates (the version only goes up, the UA and UA-CH
follow), a font installed or removed, screen changes (an external monitor, a rotated tablet, a
zoom that changes the dpr), travel (another timezone and network), storage cleared (a new
storage_id, no token), private mode (no storage_id, no token), a new home IP.

The token depends on the server: `issue(visit) -> token | None` is called once per visit, in
time order, before the visit is yielded; what it answers is what the device's SDK keeps and
sends next time (not after private mode; lost when storage is cleared). Without `issue` no
token is ever sent. The random draws never depend on the answers, so one seed gives the same
visits whatever the server, and several resolvers can be measured on the same traffic.

Each visit: {"true_device", "ts" (ms), "attrs", "token", "ip", "customer_id" (the owner when
logged in, else None), "header_order", "drift" (the kinds applied at this visit)}.
"""

from __future__ import annotations

import hashlib
import heapq
import random
import uuid
from collections.abc import Callable, Iterator

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
T0 = 1_767_225_600_000  # 2026-01-01 UTC
CHROME_AT_T0 = 132  # a Chromium major every 4 weeks from here

# one probe list of ~60 fonts
WIN_FONTS = ["Arial", "Calibri", "Cambria", "Consolas", "Courier New", "Georgia", "Microsoft YaHei", "SimSun",
             "SimHei", "KaiTi", "FangSong", "Segoe UI", "Tahoma", "Times New Roman", "Verdana", "Impact"]
MAC_FONTS = ["Helvetica", "PingFang SC", "Hiragino Sans GB", "STHeiti", "Songti SC", "Menlo", "Monaco", "Arial",
             "Times", "Georgia", "Avenir", "Futura", "Optima"]
IOS_FONTS = ["Helvetica", "PingFang SC", "Hiragino Sans GB", "STHeiti", "Menlo", "Arial", "Times", "Georgia"]
ANDROID_FONTS = ["Roboto", "Noto Sans CJK SC", "Droid Sans", "Noto Serif"]
USER_FONTS = ["FZShuTi", "FZYaoTi", "STXingkai", "STCaiyun", "LiSu", "YouYuan", "Adobe Song Std", "Adobe Heiti Std",
              "Source Han Sans CN", "Noto Sans CJK SC", "Open Sans", "Lato", "Fira Code", "JetBrains Mono", "DengXian",
              "Microsoft JhengHei", "MingLiU", "Bahnschrift", "Candara", "Source Code Pro", "HarmonyOS Sans",
              "Alibaba PuHuiTi"]
PDF = ["PDF Viewer", "Chrome PDF Viewer", "Chromium PDF Viewer", "Microsoft Edge PDF Viewer", "WebKit built-in PDF"]
HEADERS = {"Chrome": "host,connection,sec-ch-ua,sec-ch-ua-mobile,user-agent,accept,accept-encoding,accept-language",
           "Edge": "host,connection,sec-ch-ua,sec-ch-ua-mobile,user-agent,accept,accept-encoding,accept-language",
           "Safari": "host,accept,sec-fetch-site,accept-language,sec-fetch-mode,user-agent,accept-encoding",
           "Firefox": "host,user-agent,accept,accept-language,accept-encoding,connection"}

# make: (os, os version, browser, platform, screen (w, h, dpr), cores, memory, touch points, gpu (vendor, renderer), weight)
MAKES = {
    "iPhone 14": ("iOS", "17.4", "Safari", "iPhone", (390, 844, 3.0), 6, None, 5, ("Apple Inc.", "Apple GPU"), 9),
    "iPhone 13": ("iOS", "16.6", "Safari", "iPhone", (390, 844, 3.0), 6, None, 5, ("Apple Inc.", "Apple GPU"), 7),
    "iPhone 15 Pro": ("iOS", "17.5", "Safari", "iPhone", (393, 852, 3.0), 6, None, 5, ("Apple Inc.", "Apple GPU"), 5),
    "iPad Air": ("iOS", "17.4", "Safari", "MacIntel", (820, 1180, 2.0), 8, None, 5, ("Apple Inc.", "Apple GPU"), 2),
    "Xiaomi 13": ("Android", "14", "Chrome", "Linux armv8l", (393, 873, 2.75), 8, 8, 5, ("Qualcomm", "Adreno (TM) 740"), 6),
    "OPPO Reno8": ("Android", "13", "Chrome", "Linux armv8l", (360, 800, 3.0), 8, 8, 5, ("ARM", "Mali-G77 MC9"), 5),
    "vivo X90": ("Android", "13", "Chrome", "Linux armv8l", (360, 800, 3.0), 8, 8, 5, ("ARM", "Mali-G710 MC10"), 4),
    "HONOR 90": ("Android", "13", "Chrome", "Linux armv8l", (412, 915, 2.625), 8, 8, 5, ("Qualcomm", "Adreno (TM) 644"), 4),
    "MacBook Air M1": ("macOS", "14.4", "Chrome", "MacIntel", (1440, 900, 2.0), 8, 8, 0,
                       ("Google Inc. (Apple)", "ANGLE (Apple, ANGLE Metal Renderer: Apple M1, Unspecified Version)"), 4),
    "ThinkPad E14": ("Windows", "10", "Chrome", "Win32", (1920, 1080, 1.25), 8, 8, 0,
                     ("Google Inc. (Intel)", "ANGLE (Intel, Intel(R) UHD Graphics 620 Direct3D11 vs_5_0 ps_5_0, D3D11)"), 4),
    "Lenovo office PC": ("Windows", "10", "Edge", "Win32", (1920, 1080, 1.0), 4, 8, 0,
                         ("Google Inc. (Intel)", "ANGLE (Intel, Intel(R) HD Graphics 530 Direct3D11 vs_5_0 ps_5_0, D3D11)"), 3),
}
GPUS = ["NVIDIA GeForce GTX 1650", "NVIDIA GeForce RTX 3060", "AMD Radeon RX 580", "Intel(R) Iris(R) Xe Graphics",
        "Intel(R) UHD Graphics 630", "Adreno (TM) 650", "Mali-G78 MP14", "Apple M2"]
ONE_OF_A_KIND = [  # (os, os version, browser, platform, mobile)
    ("Windows", "10", "Chrome", "Win32", False), ("Windows", "11", "Edge", "Win32", False),
    ("Windows", "10", "Firefox", "Win32", False), ("macOS", "13.6", "Chrome", "MacIntel", False),
    ("Android", "12", "Chrome", "Linux armv8l", True), ("Android", "14", "Chrome", "Linux aarch64", True),
]
TRIPS = [("Asia/Tokyo", -540), ("Asia/Bangkok", -420), ("Asia/Singapore", -480), ("Europe/London", 0),
         ("America/Los_Angeles", 480)]
LANGS = [(["zh-CN"], 70), (["zh-CN", "zh"], 12), (["zh-CN", "en-US", "en"], 8), (["en-US", "en"], 4),
         (["zh-TW", "zh"], 3), (["zh-HK", "zh", "en"], 3)]
PRIVATE, CLEARED, NEW_IP, FONT, ZOOM, MONITOR, ROTATE = 0.02, 0.02, 0.005, 0.01, 0.02, 0.15, 0.3


def _hex(*parts: object) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=8).hexdigest()


def _chrome_latest(ts: int) -> int:
    return CHROME_AT_T0 + (ts - T0) // (4 * WEEK_MS)


class _Device:
    """A device's true state; `attrs()` is what its SDK collects now."""

    def __init__(self, n: int, rng: random.Random, household: int, home: str, start: int, lookalikes: float):
        self.name, self.household, self.home, self.start = f"T{n:07d}", household, home, start
        self.owner = f"C{n:07d}"
        self.rate = min(15.0, max(0.3, rng.lognormvariate(0.4, 0.8)))  # visits a week
        self.storage: str | None = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.token: str | None = None
        self.trip: tuple[int, int, str, int] | None = None
        if rng.random() < 0.05:
            leave = start + rng.randint(0, 5 * WEEK_MS)
            self.trip = (leave, leave + rng.randint(3, 10) * DAY_MS, *rng.choice(TRIPS))
        langs = rng.choices([x for x, _ in LANGS], [w for _, w in LANGS])[0]
        self.languages = list(langs)
        if rng.random() < lookalikes:
            self._make(rng)
        else:
            self._one_of_a_kind(rng, n)
        self.version = _chrome_latest(start) - rng.choice((0, 0, 1, 2)) if self.browser != "Safari" else 0
        self.monitor = not self.mobile and rng.random() < 0.3
        self.external = False
        self.landscape = False
        self.zoom = 1.0

    def _make(self, rng: random.Random) -> None:
        names = list(MAKES)
        self.make = rng.choices(names, [MAKES[m][-1] for m in names])[0]
        (self.os, self.os_version, self.browser, self.platform, (w, h, dpr), self.cores, self.memory, self.touch,
         (self.gpu_vendor, self.renderer), _) = MAKES[self.make]
        self.screen, self.dpr = (w, h), dpr
        self.mobile = self.os in ("iOS", "Android")
        self.canvas = _hex("canvas", self.make, self.os_version)
        self.gl_hash, self.audio = _hex("webgl", self.make), _hex("audio", self.make)
        self.fonts = self._fonts(rng)

    def _one_of_a_kind(self, rng: random.Random, n: int) -> None:
        self.make = None
        self.os, self.os_version, self.browser, self.platform, self.mobile = rng.choice(ONE_OF_A_KIND)
        sizes = [(412, 915), (360, 780)] if self.mobile else [(1920, 1080), (1366, 768), (2560, 1440), (1536, 864)]
        self.screen = rng.choice(sizes)
        self.dpr = rng.choice([2.625, 3.0]) if self.mobile else rng.choice([1.0, 1.25, 1.5])
        self.cores, self.memory = rng.choice([4, 6, 8, 12, 16]), rng.choice([4, 8, 8])
        self.cores = min(self.cores, 8) if self.mobile else self.cores
        self.touch = 5 if self.mobile else 0
        self.gpu_vendor, self.renderer = "Google Inc.", f"ANGLE ({rng.choice(GPUS)} {rng.randint(100, 999)})"
        self.canvas, self.gl_hash, self.audio = _hex("canvas", n), _hex("webgl", n), _hex("audio", n)
        self.fonts = self._fonts(rng)

    def _fonts(self, rng: random.Random) -> list[str]:
        if self.os == "iOS":
            return list(IOS_FONTS)
        if self.os == "Android":
            return list(ANDROID_FONTS)
        base = WIN_FONTS if self.os == "Windows" else MAC_FONTS
        return base + [f for f in USER_FONTS if rng.random() < 0.12]

    def drift(self, rng: random.Random, ts: int) -> list[str]:
        """Change the device as time passes; the kinds of change."""
        kinds = []
        if self.browser != "Safari" and self.version < _chrome_latest(ts) and rng.random() < 0.35:
            self.version, kinds = _chrome_latest(ts), ["browser_update"]
        if not self.mobile and rng.random() < FONT:
            extra = [f for f in USER_FONTS if f not in self.fonts]
            self.fonts = self.fonts + [rng.choice(extra)] if rng.random() < 0.6 or len(self.fonts) < 14 else \
                [f for f in self.fonts if f != rng.choice(self.fonts[-3:])]
            kinds.append("font")
        if self.monitor and rng.random() < MONITOR:
            self.external = not self.external
            kinds.append("monitor")
        if self.make == "iPad Air" and rng.random() < ROTATE:
            self.landscape = not self.landscape
            kinds.append("rotate")
        if not self.mobile and rng.random() < ZOOM:
            self.zoom = 1.0 if self.zoom != 1.0 else rng.choice([0.9, 1.1, 1.25])
            kinds.append("zoom")
        return kinds

    def attrs(self, ts: int, private: bool) -> dict:
        travelling = self.trip is not None and self.trip[0] <= ts < self.trip[1]
        tz, offset = (self.trip[2], self.trip[3]) if travelling else ("Asia/Shanghai", -480)
        w, h = (2560, 1440) if self.external else self.screen
        w, h = (h, w) if self.landscape else (w, h)
        dpr = 1.0 if self.external else round(self.dpr * self.zoom, 3)
        chromium = self.browser in ("Chrome", "Edge")
        return {
            "user_agent": self.user_agent(), "ua_ch": self.ua_ch() if chromium else None,
            "platform": self.platform,
            "vendor": "Apple Computer, Inc." if self.browser == "Safari" else "Google Inc." if chromium else "",
            "browser": {"name": self.browser, "version": self.version or int(self.os_version.split(".")[0])},
            "os": {"name": self.os, "version": self.os_version}, "languages": list(self.languages),
            "timezone": tz, "tz_offset": offset,
            "screen": {"w": w, "h": h, "avail_w": w, "avail_h": h - (0 if self.mobile else 40), "depth": 24, "dpr": dpr},
            "hardware_concurrency": self.cores, "device_memory": self.memory if chromium else None,
            "touch_points": self.touch, "touch": self.touch > 0, "canvas": self.canvas,
            "webgl": {"vendor": self.gpu_vendor, "renderer": self.renderer, "hash": self.gl_hash}, "audio": self.audio,
            "fonts": list(self.fonts), "plugins": [] if self.mobile else list(PDF),
            "storage_id": None if private else self.storage, "cookies": True,
            "automation": {k: False for k in ("webdriver", "headless_ua", "no_plugins", "no_languages", "chrome_missing",
                                              "permissions_inconsistent", "window_outer_zero")},
        }

    def user_agent(self) -> str:
        v = self.version
        if self.os == "iOS":
            ver = self.os_version
            if self.platform == "MacIntel":  # iPadOS asks for the desktop site
                return ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                        f"Version/{ver} Safari/605.1.15")
            return (f"Mozilla/5.0 (iPhone; CPU iPhone OS {ver.replace('.', '_')} like Mac OS X) AppleWebKit/605.1.15 "
                    f"(KHTML, like Gecko) Version/{ver} Mobile/15E148 Safari/604.1")
        if self.browser == "Firefox":
            return f"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0"
        system = {"Android": f"Linux; Android {self.os_version}; K", "macOS": "Macintosh; Intel Mac OS X 10_15_7"}.get(
            self.os, "Windows NT 10.0; Win64; x64")
        tail = " Mobile Safari/537.36" if self.mobile else " Safari/537.36"
        return (f"Mozilla/5.0 ({system}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0{tail}"
                + (f" Edg/{v}.0.0.0" if self.browser == "Edge" else ""))

    def ua_ch(self) -> dict:
        brand = "Microsoft Edge" if self.browser == "Edge" else "Google Chrome"
        return {"brands": [["Not A(Brand", "8"], ["Chromium", str(self.version)], [brand, str(self.version)]],
                "platform": {"Android": "Android", "macOS": "macOS"}.get(self.os, "Windows"),
                "platform_version": self.os_version, "mobile": self.mobile,
                "model": (self.make or "K") if self.mobile else ""}


def simulate_visits(devices: int, weeks: int, seed: int, *, issue: Callable[[dict], str | None] | None = None,
                    lookalikes: float = 0.6) -> Iterator[dict]:
    """The visits of `devices` devices over `weeks` weeks in time order (see the module docstring);
    `lookalikes` is the share of devices of a popular make (the rest are one of a kind)."""
    rng = random.Random(seed)
    end = T0 + weeks * WEEK_MS
    def nets(first: tuple[int, ...], n: int) -> list[str]:
        return [f"{rng.choice(first)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}" for _ in range(max(1, n))]

    homes = nets(tuple(range(36, 224)), devices)  # households' /24s
    carriers = nets((39, 112, 117, 223), devices // 100)  # mobile data: many devices a /24
    offices = nets((58, 59, 60, 61), devices // 40)
    abroad = nets(tuple(range(1, 36)), 50)
    fleet: list[_Device] = []
    heap: list[tuple[int, int]] = []
    household = 0
    for n in range(devices):
        if n == 0 or rng.random() < 0.7:  # else a second or third device of the last household
            household += 1
        start = T0 + rng.randint(0, (WEEK_MS if rng.random() < 0.5 else weeks * WEEK_MS) - 1)
        d = _Device(n, rng, household, homes[household % len(homes)], start, lookalikes)
        fleet.append(d)
        heap.append((start, n))
    heapq.heapify(heap)
    while heap:
        ts, n = heapq.heappop(heap)
        d = fleet[n]
        kinds = [] if ts == d.start else d.drift(rng, ts)
        r = rng.random()
        private = ts != d.start and r < PRIVATE
        if ts != d.start and PRIVATE <= r < PRIVATE + CLEARED:
            d.storage, d.token = str(uuid.UUID(int=rng.getrandbits(128), version=4)), None
            kinds.append("cleared")
        if rng.random() < NEW_IP:
            d.home = f"{rng.randint(36, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}"
            kinds.append("new_ip")
        travelling = d.trip is not None and d.trip[0] <= ts < d.trip[1]
        where = rng.random()
        net = (rng.choice(abroad) if travelling else rng.choice(carriers) if d.mobile and where < 0.45
               else rng.choice(offices[n % 7::7] or offices) if not d.mobile and where < 0.2 else d.home)
        kinds += ["private"] * private + ["travel"] * travelling
        visit = {"true_device": d.name, "ts": ts, "attrs": d.attrs(ts, private), "token": None if private else d.token,
                 "ip": f"{net}.{rng.randint(1, 254)}", "customer_id": d.owner if rng.random() < 0.6 else None,
                 "header_order": HEADERS[d.browser], "drift": kinds}
        answer = issue(visit) if issue is not None else None
        if not private:
            d.token = answer
        nxt = ts + int(rng.expovariate(d.rate) * WEEK_MS) + 60_000
        if nxt < end:
            heapq.heappush(heap, (nxt, n))
        yield visit
