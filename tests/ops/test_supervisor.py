"""A process that dies is started again after a back-off that doubles; a crash loop is given up on."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ops.stack import Service, Stack
from ops.supervisor import GaveUp, RestartPolicy, Supervisor


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def sleeper(name: str, tmp_path: Path) -> Service:
    argv = [sys.executable, "-c", "import time; time.sleep(120)"]
    return Service(name, argv, {}, lambda: True, 10, tmp_path / "logs" / f"{name}.log")


@pytest.fixture
def stack(tmp_path):
    stack = Stack.__new__(Stack)  # two harmless processes instead of Rasa, the action server and the gateway
    stack.services = [sleeper("rasa", tmp_path), sleeper("gateway", tmp_path)]
    for service in stack.services:
        service.start()
    yield stack
    stack.stop()


def kill(service: Service) -> None:
    assert service.process is not None
    service.process.kill()
    service.process.wait()


def test_a_dead_process_is_started_again_after_its_back_off_and_the_others_keep_running(stack):
    clock, lines = Clock(), []
    supervisor = Supervisor(stack, RestartPolicy(first_delay=1, max_delay=30), report=lines.append, clock=clock)
    rasa, gateway = stack.services
    gateway_pid = gateway.process.pid
    kill(rasa)
    supervisor.check()
    assert not rasa.alive() and "rasa exited unexpectedly" in lines[-1] and "restarting in 1 s" in lines[-1]
    clock.now = 0.5
    supervisor.check()
    assert not rasa.alive()  # not before its back-off
    clock.now = 1.0
    supervisor.check()
    assert rasa.alive() and supervisor.restarts == 1
    assert gateway.alive() and gateway.process.pid == gateway_pid
    assert int(rasa.pid_path.read_text()) == rasa.process.pid
    supervisor.check()
    assert lines[-1] == "rasa is back"


def test_the_back_off_doubles_with_each_failure_up_to_its_ceiling():
    policy = RestartPolicy(first_delay=1, max_delay=30)
    assert [policy.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_crash_loop_is_given_up_on(stack):
    clock = Clock()
    supervisor = Supervisor(
        stack, RestartPolicy(first_delay=1, limit=2, window=600), report=lambda _l: None, clock=clock
    )
    rasa = stack.services[0]
    for _ in range(2):
        kill(rasa)
        supervisor.check()
        clock.now += 60
        supervisor.check()
        assert rasa.alive()
    kill(rasa)
    with pytest.raises(GaveUp, match="rasa died 3 times"):
        supervisor.check()


def test_failures_older_than_the_window_are_forgotten(stack):
    clock = Clock()
    supervisor = Supervisor(
        stack, RestartPolicy(first_delay=1, limit=1, window=100), report=lambda _l: None, clock=clock
    )
    rasa = stack.services[0]
    for _ in range(3):
        kill(rasa)
        supervisor.check()
        clock.now += 150  # each failure outside the window of the previous one
        supervisor.check()
        assert rasa.alive()
