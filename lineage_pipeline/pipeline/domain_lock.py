"""One ingest of a domain at a time: an exclusive ``flock`` per domain, held by a run from start to end.

Two runs of one domain at once (``lineage ingest`` started twice, or beside a sensor's run) would each
save the manifest, results and subgraph the other reads: one run's write met the other's newer manifest
and failed, half done. A run holds its domain's lock file under ``<data_dir>/locks`` for as long as it
runs; the kernel frees it when the holder dies, ``kill -9`` included, so a lock is never left behind.
"""

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class DomainBusyError(RuntimeError):
    """Another process is ingesting the domain."""


def lock_path(locks_dir: Path, domain: str) -> Path:
    """The lock file of ``domain``: named by a digest, so no folder name, however hostile, makes a path."""
    digest = hashlib.blake2b(domain.encode("utf-8", "surrogateescape"), digest_size=10).hexdigest()
    return locks_dir / f"{digest}.lock"


@contextmanager
def domain_lock(locks_dir: Path, domain: str, *, holder: str) -> Iterator[None]:
    """Hold ``domain``'s lock for the block, or raise ``DomainBusyError`` naming who holds it.
    ``holder`` (e.g. the run id and pid) is written into the lock file for the next one to name."""
    locks_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(locks_dir, domain), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # the holder may not have named itself yet: it writes its name just after locking
            named = os.pread(fd, 1024, 0).decode("utf-8", "replace").strip()
            raise DomainBusyError(
                f"domain {domain!r} is being ingested by {named or 'another process'}; run it again when that has ended"
            ) from None
        os.ftruncate(fd, 0)
        with contextlib.suppress(OSError):  # the name is a courtesy: a full disk must not fail the run here
            os.pwrite(fd, holder.encode("utf-8", "replace"), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock
