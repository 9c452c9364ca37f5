"""Background work of the gateway, tied to the application's life (``app.cleanup_ctx`` entries).

Every task started here is cancelled **and awaited** when the application shuts down, so nothing
runs on into a closed database or a closed client session, and a task that failed is logged.

A :func:`periodic` job runs once per interval across every gateway process on the database: each pass first
checks the job's lease (:mod:`griddesk.leases`); the process holding it runs the job, the others skip the pass
and take over when the holder stops (it gives the lease back) or dies (its lease expires).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from griddesk.leases import Lease

log = logging.getLogger(__name__)

CleanupContext = Callable[[web.Application], AsyncIterator[None]]


async def stop(task: asyncio.Task[object]) -> None:
    """Cancel ``task`` and wait until it has ended (its own cancellation included)."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def background(name: str, work: Callable[[web.Application], Awaitable[object]]) -> CleanupContext:
    """A cleanup-context entry running ``work(app)`` once, in the background, for the app's lifetime."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        async def run() -> None:
            try:
                await work(app)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background task %s failed", name)

        task = asyncio.create_task(run(), name=name)
        try:
            yield
        finally:
            await stop(task)

    return context


def lease_seconds(interval: float) -> float:
    """How long a periodic job's lease lasts: three intervals (a holder renews it at every pass), at least 15 s.
    A holder that dies is replaced after at most this long."""
    return max(3 * interval, 15.0)


def periodic(
    name: str, work: Callable[[web.Application], Awaitable[object]], seconds: Callable[[web.Application], float]
) -> CleanupContext:
    """A cleanup-context entry running ``work(app)`` now and then every ``seconds(app)``, in the one gateway
    process that holds the job's lease (named ``name``); a failed pass is logged and the next one runs on time."""

    async def loop(app: web.Application) -> None:
        lease = Lease(name, lease_seconds(seconds(app)))
        try:
            while True:
                try:
                    if await lease.held():
                        await work(app)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("%s failed; retrying next interval", name)
                await asyncio.sleep(seconds(app))
        finally:
            await lease.release()

    return background(name, loop)
