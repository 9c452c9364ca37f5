"""A throwaway Redis server for the tests of several gateway processes (``ops.redis``: Debian's redis-server on a
unix socket in a temporary folder, no TCP port), started once per test process and emptied before each test.

Fixtures: ``redis_server`` (the :class:`ops.redis.Server`, session-wide) and ``redis_url`` (its URL, emptied for
the test). ``make test`` installs redis-server first (``make redis``); without it these tests are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ops.redis import Server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Server]:
    from ops import redis as redis_ops

    try:
        redis_ops.server_binary()
    except redis_ops.RedisError as missing:
        pytest.skip(str(missing))
    server = redis_ops.Server.throwaway_in_temp()
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def redis_url(redis_server: Server) -> str:
    import redis

    if not redis_server.running():  # a test stopped it (a lost link): start it again for the next one
        redis_server.start()
    client = redis.Redis.from_url(redis_server.url())
    try:
        client.flushall()
    finally:
        client.close()
    return redis_server.url()
