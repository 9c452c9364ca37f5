"""Leases (``griddesk.leases``) and the periodic jobs they keep to one gateway process (``griddesk.web.tasks``):
one holder at a time, also when processes ask at once on real parallel connections (SQLite and PostgreSQL), a
lease that expires or is given back goes to the next one asking, and of two applications on one database only
one runs a periodic job until it stops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy import select

from griddesk.db import session_scope
from griddesk.leases import JobLease, Lease, acquire, release
from griddesk.web.tasks import lease_seconds, periodic
from tests.races import race

WAIT = 10.0


def holder_of(name: str) -> str | None:
    with session_scope() as session:
        return session.scalar(select(JobLease.holder).where(JobLease.name == name))


def test_one_holder_until_it_expires_then_the_next_one_asking(settings):
    assert acquire("sweep", "a", 30, now=1000)
    assert acquire("sweep", "a", 30, now=1010)  # renewed: until 1040
    assert not acquire("sweep", "b", 30, now=1039)
    assert acquire("sweep", "b", 30, now=1041)  # a's lease ran out (a died): b takes over
    assert not acquire("sweep", "a", 30, now=1042)  # and a, back, does not get it
    assert holder_of("sweep") == "b"
    assert acquire("relay", "a", 30, now=1042)  # another job has its own lease


def test_a_lease_given_back_goes_to_the_next_one_asking_and_only_its_holder_gives_it_back(settings):
    assert acquire("sweep", "a", 30, now=1000)
    release("sweep", "b")  # not b's to give
    assert not acquire("sweep", "b", 30, now=1001)
    release("sweep", "a")
    assert holder_of("sweep") is None
    assert acquire("sweep", "b", 30, now=1002)


def test_of_processes_asking_at_once_exactly_one_gets_it(settings):
    holders = [f"process-{n}" for n in range(6)]
    outcomes = race([lambda holder=holder: acquire("race", holder, 30, now=1000) for holder in holders])
    assert outcomes.count(True) == 1 and outcomes.count(False) == 5
    assert holder_of("race") == holders[outcomes.index(True)]
    # and again when the lease has expired: one of them takes it over
    outcomes = race([lambda holder=holder: acquire("race", holder, 30, now=2000) for holder in holders])
    assert outcomes.count(True) == 1


async def test_a_lease_object_holds_renews_and_gives_back(settings):
    one, two = Lease("job", 30), Lease("job", 30)
    assert await one.held() and not await two.held()
    assert await one.held()  # trusted without asking again, still its
    await one.release()
    assert await two.held() and not await one.held()
    await two.release()
    await two.release()  # not held any more: nothing to do
    assert holder_of("job") is None


def test_a_periodic_jobs_lease_covers_several_passes():
    assert lease_seconds(1) == 15 and lease_seconds(60) == 180


@contextlib.asynccontextmanager
async def application(job: web.AppKey[list[str]], runs: list[str], name: str) -> AsyncIterator[web.Application]:
    """An application running the periodic ``test job`` (each pass notes ``name``), started and stopped as a
    gateway is."""

    async def work(app: web.Application) -> None:
        app[job].append(name)
        runs.append(name)

    app = web.Application()
    app[job] = []
    app.cleanup_ctx.append(periodic("test job", work, lambda _app: 0.01))
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        yield app
    finally:
        await runner.cleanup()


async def _until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.01)


async def test_of_two_applications_on_one_database_one_runs_a_periodic_job_and_the_other_takes_over(settings):
    job = web.AppKey("test job runs", list[str])
    runs: list[str] = []
    async with contextlib.AsyncExitStack() as b_running:
        async with application(job, runs, "A"):
            await asyncio.wait_for(_until(lambda: len(runs) >= 3), WAIT)  # A holds the lease
            b = await b_running.enter_async_context(application(job, runs, "B"))
            start = len(runs)
            await asyncio.wait_for(_until(lambda: len(runs) >= start + 20), WAIT)
            assert b[job] == [] and set(runs) == {"A"}  # B skips every pass while A holds it
        # A stopped (it gave the lease back): B runs the job from its next pass, and A no more
        ran_by_a = len(runs)
        await asyncio.wait_for(_until(lambda: len(b[job]) >= 3), WAIT)
        assert runs[ran_by_a:] == ["B"] * (len(runs) - ran_by_a)
    assert holder_of("test job") is None  # B gave it back too
