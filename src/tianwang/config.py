"""Settings: every knob tianwang reads, with its default and help, from TIANWANG_* variables.

Nothing else in the code reads the environment. `docs/settings.md` lists these (a test
keeps it in step).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


MIN_API_KEY = 24  # characters of a configured API key (generated ones have 35)


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    data_dir: Path = _setting(Path("tianwang-data"), "Folder for the embedded database, state checkpoints and the PII key.")
    db: str | None = _setting(None, "Records database URL (postgresql://…); unset means SQLite under the data dir.")
    state: str | None = _setting(None, "Shared window state (redis://host:port/db, optional ?namespace=tw): server mode, every replica reads and writes it; unset keeps the state in process memory, checkpointed to the data dir.")
    stream: str | None = _setting(None, "Server mode: the Redis (redis://host:port/db, optional ?namespace=tw) of the decided stream that carries every stored decision to the workers' monitoring cube; default: the TIANWANG_STATE Redis.")
    stream_claim_s: float = _setting(30.0, "Server mode: seconds a worker may hold a decided-stream entry unacknowledged before another worker takes it over (the first is taken for dead).")
    cube_hours: int = _setting(48, "Hours the monitoring cube keeps a minute's counts after it was last written.")
    api_key: str | None = _setting(None, "API key of the `demo` tenant created on first start (at least 24 characters; never printed); random when unset (printed once).")
    pii_key: str | None = _setting(None, "Key for the keyed hashes of personal data; generated into the data dir when unset.")
    timezone: str = _setting("Asia/Shanghai", "Clock for the `hour` and `weekday` event fields.")
    policy_dir: Path | None = _setting(None, "Bundle published on first start when a tenant has no policy; default: the shipped policies/default.")
    max_body_bytes: int = _setting(256 * 1024, "Largest request body accepted (413 above).")
    max_batch: int = _setting(500, "Most events in one POST /v1/events/batch.")
    max_beacon_bytes: int = _setting(64 * 1024, "Largest beacon POST /v1/collect takes (413 above).")
    checkpoint_every_s: float = _setting(60.0, "Seconds between checkpoints of the online window state.")
    log_level: str = _setting("info", "Log level of the server.")
    intervention_provider: str = _setting("off", "Who carries out interventions (calls, SMS, pop-ups): off (tasks wait; results can still be posted to POST /v1/interventions/{id}/result), webhook (posted to the tenant's webhook) or simulated (outcomes made up: the demo's; never in production).")
    webhook_attempts: int = _setting(12, "Attempts to deliver one notification before it is marked dead.")
    webhook_timeout_s: float = _setting(5.0, "Seconds to wait for a tenant's webhook to answer one delivery.")
    cookie_secure: bool = _setting(False, "Mark the console's session cookie Secure even when this server sees plain HTTP (set it behind a TLS-terminating proxy or load balancer).")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> "Settings":
        """Read TIANWANG_<NAME> for every setting; keyword overrides (from CLI flags) win."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"TIANWANG_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.type, raw, f.name)
        kinds = {f.name: f.type for f in fields(cls)}
        for name, value in overrides.items():
            if value is None:
                continue
            if name not in kinds:
                raise TypeError(f"unknown setting {name!r}")
            values[name] = _convert(kinds[name], value, name) if isinstance(value, str) else value
        return cls(**values)

    def check(self, *, scratch: bool = False) -> None:
        """Refuse settings out of range before anything is made (SettingError names the setting)."""
        from tianwang.errors import SettingError

        if self.state and not scratch and not self.pii_key:
            raise SettingError("TIANWANG_PII_KEY", "server mode needs the same TIANWANG_PII_KEY on every replica "
                               "(a key file in each data folder would hash the same phone differently)")
        if self.api_key is not None and len(self.api_key) < MIN_API_KEY:
            raise SettingError("TIANWANG_API_KEY", f"at least {MIN_API_KEY} characters (a short key is guessed)")
        if self.intervention_provider not in ("simulated", "webhook", "off"):
            raise SettingError("TIANWANG_INTERVENTION_PROVIDER", "one of simulated, webhook, off")
        if self.cube_hours < 1:
            raise SettingError("TIANWANG_CUBE_HOURS", "at least 1 (hours the monitoring cube keeps a minute's counts)")
        if not self.stream_claim_s > 0:
            raise SettingError("TIANWANG_STREAM_CLAIM_S", "more than 0 seconds")


def _convert(kind: Any, raw: str, name: str) -> Any:
    kind = str(kind)
    try:
        if "Path" in kind:
            return Path(raw)
        if kind.startswith("bool"):
            word = raw.strip().lower()
            if word not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                raise ValueError(word)
            return word in ("true", "1", "yes", "on")
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("float"):
            return float(raw)
    except ValueError:
        raise SystemExit(f"TIANWANG_{name.upper()}={raw!r} is not a valid {kind}") from None
    return raw


def settings_help() -> list[tuple[str, str, str]]:
    """(env var, default, help) for every setting, for the docs and `tianwang --help`."""
    def shown(value: Any) -> str:
        return "unset" if value is None else str(value)

    return [(f"TIANWANG_{f.name.upper()}", shown(f.default), f.metadata["help"]) for f in fields(Settings)]
