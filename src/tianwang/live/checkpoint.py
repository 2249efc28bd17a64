"""One checkpoint of the embedded default: the window state (`state.ckpt`) and every tenant's
network (`network.ckpt`), both as of the last committed event, written together.

Server mode writes none: Redis is the windows' state and the change log the networks'.
A backtest writes none either: a month of window state takes as long to pickle as a tenth of
its backtest, and twice its memory while it does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from tianwang.network import Network
from tianwang.network.persist import body as network_body
from tianwang.network.persist import from_body as network_from_body
from tianwang.state import checkpoint as checkpoint_file
from tianwang.state.base import StateError

if TYPE_CHECKING:
    from tianwang.live.memory import Live

NETWORK_FORMAT = "tianwang.networks"


def state_path(data_dir: Path) -> Path:
    return data_dir / "state.ckpt"


def network_path(data_dir: Path) -> Path:
    return data_dir / "network.ckpt"


def save(live: Live, *, data_dir: Path, last_seq: Callable) -> None:
    """Write both files as of the last committed event (nothing in flight); blacklist entries
    expired since are unmarked first. `last_seq()`: the last committed seq, read once quiesced."""
    with live.quiesced():
        for tenant_id in sorted(live.networks):
            live.sync_blacklist(tenant_id)  # blacklist entries expired since
        if live.scratch or live.shared:
            return
        seq = last_seq()
        live.state.checkpoint(state_path(data_dir), seq)
        body = {"format": NETWORK_FORMAT, "last_seq": seq,
                "tenants": {t: network_body(net) for t, net in sorted(live.networks.items())}}
        checkpoint_file.write(network_path(data_dir), body)


def read_networks(path: Path, *, poison: Iterable[str]) -> tuple[dict[str, Network], int]:
    """The networks of a checkpoint and the last event seq they hold (StateError when it is not one)."""
    data = checkpoint_file.read(path)
    if not isinstance(data, dict) or data.get("format") != NETWORK_FORMAT:
        raise StateError(f"{path} is not a network checkpoint")
    return {t: network_from_body(b, poison=poison) for t, b in data["tenants"].items()}, data["last_seq"]
