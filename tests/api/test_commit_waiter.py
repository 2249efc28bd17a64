"""CommitWaiter: requests wait for their batch's commit, woken once per batch."""

from __future__ import annotations

import asyncio

import pytest

from tianwang.api.commits import CommitWaiter
from tianwang.errors import StoreUnavailable
from tianwang.store.writer import GroupCommitWriter
from tests.store.helpers import decision_row, event_row


def test_every_waiter_wakes_after_the_commit_even_on_the_same_future(engine):
    async def scenario(writer):
        waiter = CommitWaiter(asyncio.get_running_loop(), writer)
        wakeups = []
        original = waiter._resolve
        waiter._resolve = lambda futures: (wakeups.append(len(futures)), original(futures))
        with writer._cond:  # hold the writer: all of these go in one batch
            futures = [writer.submit(event_row(i), decision_row(i)) for i in range(5)]
        # Two requests on futures[0]: a repeat sent while the first is in flight shares its Future.
        seqs = await asyncio.wait_for(asyncio.gather(*(waiter.wait(f) for f in [futures[0], *futures])), 30)
        assert all(f.done() for f in futures), "nobody is answered before the commit"
        assert seqs[0] == seqs[1] and seqs[1:] == sorted(seqs[1:])
        assert wakeups == [5], "one wake-up of the loop for the whole batch"
        assert not waiter._waiting
        waiter.close()

    with GroupCommitWriter(engine) as writer:
        asyncio.run(scenario(writer))


def test_a_cancelled_wait_leaves_the_event_to_the_writer(engine):
    async def scenario(writer):
        waiter = CommitWaiter(asyncio.get_running_loop(), writer)
        with writer._cond:
            future = writer.submit(event_row(1), decision_row(1))
            task = asyncio.ensure_future(waiter.wait(future))
            await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert not waiter._waiting
        assert await asyncio.wait_for(waiter.wait(future), 30) > 0  # stored all the same
        waiter.close()

    with GroupCommitWriter(engine) as writer:
        asyncio.run(scenario(writer))


def test_a_failed_commit_raises_in_the_request(engine):
    async def scenario(writer):
        waiter = CommitWaiter(asyncio.get_running_loop(), writer)
        writer.close()
        with pytest.raises(StoreUnavailable, match="closed"):
            await waiter.wait(writer.submit(event_row(1), decision_row(1)))
        waiter.close()

    asyncio.run(scenario(GroupCommitWriter(engine)))
