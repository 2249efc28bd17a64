"""Awaiting commits on the event loop: one wake-up per committed batch, not one per event.

`asyncio.wrap_future` on each writer Future costs, per event, a callback on the writer
thread, a `call_soon_threadsafe` (a write to the loop's self-pipe) and a hand-off of the
GIL back to the loop. `CommitWaiter` listens to the writer instead: once a batch is done it
schedules one call on the loop, which resolves the waiting requests of the whole batch.
An answer still goes out only after its event's batch committed (the Future is resolved
first, then the listener runs).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import Any

from tianwang.store.writer import GroupCommitWriter


class CommitWaiter:
    """Requests of one event loop waiting for writer Futures."""

    def __init__(self, loop: asyncio.AbstractEventLoop, writer: GroupCommitWriter):
        self.loop = loop
        self._writer = writer
        # Touched on the loop thread only (by `wait` and `_resolve`), so it needs no lock.
        # A list per Future: a repeat sent while its first is in flight waits on the same one.
        self._waiting: dict[Future, list[asyncio.Future]] = {}
        writer.add_listener(self._on_batch)

    def close(self) -> None:
        self._writer.remove_listener(self._on_batch)

    async def wait(self, future: Future) -> Any:
        """The Future's result (or its exception raised), once its batch is done.

        A cancelled request (client gone) stops waiting but leaves the event to the writer:
        it has been walked, so it is stored like any other.
        """
        if not future.done():
            # Not done now means its batch's `_on_batch` has not run yet, and the `_resolve`
            # it schedules comes after this line on the same thread.
            waiter = self.loop.create_future()
            waiters = self._waiting.setdefault(future, [])
            waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in waiters:  # harmless after `_resolve`; after a cancel, stop listening
                    waiters.remove(waiter)
                    if not waiters and self._waiting.get(future) is waiters:
                        del self._waiting[future]
        return future.result()

    def _on_batch(self, done: list) -> None:
        """Writer thread: wake the loop once for the whole batch."""
        try:
            self.loop.call_soon_threadsafe(self._resolve, [f for _, f in done])
        except RuntimeError:  # the loop is closed: nobody waits on it any more
            self.close()

    def _resolve(self, futures: list[Future]) -> None:
        waiting = self._waiting
        if not waiting:
            return
        for f in futures:
            for waiter in waiting.pop(f, ()):
                if not waiter.done():
                    waiter.set_result(None)


def commit_waiter(app: Any, platform: Any) -> CommitWaiter:
    """The app's waiter for the running loop, made on first use (closed by the app's lifespan)."""
    loop = asyncio.get_running_loop()
    waiter: CommitWaiter | None = getattr(app.state, "commit_waiter", None)
    if waiter is None or waiter.loop is not loop:
        if waiter is not None:
            waiter.close()
        waiter = app.state.commit_waiter = CommitWaiter(loop, platform.writer)
    return waiter
