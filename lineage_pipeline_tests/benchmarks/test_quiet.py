"""Spec of ``benchmarks.quiet``: a measured pass waits until the graph server has no child process and
spends next to no CPU (real processes stand in for the server)."""

import subprocess
import sys
import time

import psutil
import pytest

from benchmarks.quiet import wait_for_quiet

pytestmark = pytest.mark.integration  # real processes stand in for the graph server


def _start(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code])


def _until(condition, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the stand-in process never got going"
        time.sleep(0.01)


@pytest.fixture
def processes():
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        process.kill()
        process.wait()


def test_it_waits_while_the_server_has_a_child(processes):
    server = _start("import subprocess, time; subprocess.run(['sleep', '1']); time.sleep(60)")
    processes.append(server)
    _until(lambda: psutil.Process(server.pid).children())
    (child,) = psutil.Process(server.pid).children()

    wait_for_quiet(server.pid, window_s=0.1)

    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE


def test_it_waits_while_the_server_uses_cpu(processes):
    busy_s = 0.6
    server = _start(f"import time\nwhile time.process_time() < {busy_s}: pass\ntime.sleep(60)")
    processes.append(server)
    _until(lambda: psutil.Process(server.pid).cpu_times().user > 0.05)

    wait_for_quiet(server.pid, window_s=0.2)

    times = psutil.Process(server.pid).cpu_times()
    assert times.user + times.system >= busy_s - 0.02  # the kernel counts CPU time in 10 ms ticks


def test_an_idle_server_costs_one_window(processes):
    server = _start("import time; time.sleep(60)")
    processes.append(server)
    _until(lambda: psutil.Process(server.pid).status() == psutil.STATUS_SLEEPING)
    windows: list[float] = []

    wait_for_quiet(server.pid, window_s=0.05, sleep=lambda s: (windows.append(s), time.sleep(s)))

    assert windows == [0.05]


def test_a_server_that_never_settles_is_waited_for_until_the_timeout(processes):
    server = _start("while True: pass")
    processes.append(server)
    _until(lambda: psutil.Process(server.pid).cpu_times().user > 0.05)

    waited = wait_for_quiet(server.pid, window_s=0.05, timeout_s=0.3)

    assert 0.3 <= waited < 5


def test_no_server_or_a_gone_one_is_no_wait(processes):
    gone = _start("pass")
    gone.wait()

    assert wait_for_quiet(None) < 5
    assert wait_for_quiet(gone.pid) < 5
