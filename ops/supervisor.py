"""Keeping the three processes alive: a child that dies is started again, with back-off and a limit.

``make run`` (:mod:`ops.run`) calls :meth:`Supervisor.check` about once a second. A dead process is
restarted after a delay that doubles with each failure in the window (1 s, 2 s, 4 s … at most 30 s);
the others keep running meanwhile (the gateway tells customers the assistant is briefly unavailable
and keeps their messages). More than ``limit`` failures within ``window`` seconds is a crash loop
that needs a person: :class:`GaveUp` is raised and the caller stops everything.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ops.stack import Service, Stack


@dataclass(frozen=True)
class RestartPolicy:
    first_delay: float = 1.0
    max_delay: float = 30.0
    limit: int = 5  # restarts allowed …
    window: float = 600.0  # … within this many seconds

    def delay(self, failures: int) -> float:
        """Seconds to wait before the restart that follows the ``failures``-th recent failure (1-based)."""
        return float(min(self.max_delay, self.first_delay * 2.0 ** max(0, failures - 1)))


class GaveUp(RuntimeError):
    """A process kept dying; the supervisor stops restarting it."""

    def __init__(self, service: Service, failures: int) -> None:
        super().__init__(f"{service.name} died {failures} times in a row; giving up. Last log lines:\n{service.tail()}")
        self.service = service


@dataclass
class _Watch:
    failures: deque[float] = field(default_factory=deque)
    restart_at: float | None = None  # a restart is due at this time
    starting: bool = False  # restarted, not yet ready


class Supervisor:
    def __init__(
        self,
        stack: Stack,
        policy: RestartPolicy | None = None,
        report: Callable[[str], object] = print,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stack = stack
        self.policy = policy or RestartPolicy()
        self.report = report
        self.clock = clock
        self._watches = {service.name: _Watch() for service in stack.services}
        self.restarts = 0

    def check(self) -> None:
        """One pass over the processes: note deaths, start what is due, report recoveries."""
        now = self.clock()
        for service in self.stack.services:
            watch = self._watches[service.name]
            if watch.restart_at is not None:
                if now >= watch.restart_at:
                    watch.restart_at = None
                    watch.starting = True
                    self.restarts += 1
                    self.report(f"restarting {service.name} (restart {len(watch.failures)})")
                    service.start()
                continue
            if service.alive():
                if watch.starting and service.ready():
                    watch.starting = False
                    self.report(f"{service.name} is back")
                continue
            self._died(service, watch, now)

    def _died(self, service: Service, watch: _Watch, now: float) -> None:
        code = service.process.returncode if service.process is not None else None
        watch.starting = False
        watch.failures.append(now)
        while watch.failures and now - watch.failures[0] > self.policy.window:
            watch.failures.popleft()
        if len(watch.failures) > self.policy.limit:
            raise GaveUp(service, len(watch.failures))
        delay = self.policy.delay(len(watch.failures))
        watch.restart_at = now + delay
        self.report(
            f"{service.name} exited unexpectedly (exit code {code}); restarting in {delay:.0f} s. "
            f"Last log lines:\n{service.tail(10)}"
        )
