"""Spec of ``pipeline.domain_lock``: one holder of a domain at a time, across processes, freed by death."""

import multiprocessing
import os
import signal

import pytest

from lineage_pipeline.pipeline.domain_lock import DomainBusyError, domain_lock, lock_path
from lineage_pipeline_tests.small_fs import mounted_tmpfs

pytestmark = pytest.mark.integration  # holders are processes of their own


def _hold(locks_dir, domain, ready, release):
    with domain_lock(locks_dir, domain, holder=f"run held-elsewhere (pid {os.getpid()})"):
        ready.set()
        release.wait(30)


@pytest.fixture
def holder(tmp_path):
    """``start(domain)``: a process of its own that holds ``domain``'s lock until the test ends or kills it."""
    context = multiprocessing.get_context("spawn")
    processes = []

    def start(domain):
        ready, release = context.Event(), context.Event()
        process = context.Process(target=_hold, args=(tmp_path / "locks", domain, ready, release))
        process.start()
        assert ready.wait(30), "the holder never took the lock"
        processes.append((process, release))
        return process

    yield start
    for process, release in processes:
        if process.is_alive():  # a killed holder may have died inside the event's lock: never touch it then
            release.set()
            process.join(10)


def test_a_second_holder_is_refused_naming_the_first(tmp_path, holder):
    first = holder("risk")
    with pytest.raises(DomainBusyError) as refused, domain_lock(tmp_path / "locks", "risk", holder="run two"):
        pass
    assert str(refused.value) == (
        f"domain 'risk' is being ingested by run held-elsewhere (pid {first.pid}); run it again when that has ended"
    )
    with domain_lock(tmp_path / "locks", "core", holder="run two"):  # another domain is free
        pass


def test_the_lock_is_free_again_after_its_holder_ends_or_is_killed(tmp_path, holder):
    with domain_lock(tmp_path / "locks", "risk", holder="run one"):
        pass
    with domain_lock(tmp_path / "locks", "risk", holder="run two"):  # released at the end of the block
        pass
    killed = holder("risk")
    os.kill(killed.pid, signal.SIGKILL)
    killed.join(10)
    with domain_lock(tmp_path / "locks", "risk", holder="run three"):
        assert lock_path(tmp_path / "locks", "risk").read_text() == "run three"
    assert lock_path(tmp_path / "locks", "risk").read_text() == "", "a released lock names no holder"


@pytest.mark.parametrize("domain", ["../../etc", "a/b", "ünïcode domain", "x" * 300, "\udcff"])
def test_any_domain_name_maps_to_a_file_inside_the_locks_folder(tmp_path, domain):
    locks = tmp_path / "locks"
    path = lock_path(locks, domain)
    assert path.parent == locks and path.name.endswith(".lock") and len(path.name) < 64
    with domain_lock(locks, domain, holder="run"):
        assert path.exists()
    assert lock_path(locks, domain) != lock_path(locks, domain + "!")


def test_a_full_disk_still_gives_the_lock_and_refuses_a_second_holder(tmp_path, holder):
    with mounted_tmpfs(tmp_path / "small-fs", 1) as disk:
        locks = disk / "locks"
        locks.mkdir()
        lock_path(locks, "risk").touch()  # the file exists; its holder's name is what no longer fits
        filling = os.open(disk / "ballast", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(filling, b"x" * 4096)
        except OSError:
            pass
        finally:
            os.close(filling)
        with domain_lock(locks, "risk", holder="run on a full disk"):
            with pytest.raises(DomainBusyError, match="'risk' is being ingested by another process"):
                with domain_lock(locks, "risk", holder="run two"):
                    pass
