"""Parse files in worker processes, in chunks, with bounded work in flight and per-file fault isolation.

Each worker owns a socket: the parent sends it a chunk of files, the worker answers file by file,
so the parent always knows which file a worker is on. A worker that dies, or spends longer than
``file_timeout_s`` on one file, is killed and replaced; that file gets an error record and the rest
of its chunk is sent again. At most ``2 * workers`` chunks are outstanding, so memory does not grow
with the corpus. Workers are fresh interpreters (``parse_worker``): multiprocessing's forkserver and
spawn children re-import the parent's ``__main__`` (the Dagster or CLI entry point, about a second
and tens of MB per worker), and fork is unsafe in a threaded Dagster process.
"""

import atexit
import os
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path

from lineage_pipeline.pipeline.parse_worker import READY, error_lineage
from lineage_pipeline.stores.parse_cache import Encoded, encode

DEFAULT_CHUNK_SIZE = 16
DEFAULT_FILE_TIMEOUT_S = 120.0
_CHUNKS_PER_WORKER = 2
_MAX_RESTARTS_WITHOUT_PROGRESS = 20
_STARTUP_TIMEOUT_S = 60.0


def default_workers() -> int:
    """``min(4, cpu_count)``."""
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class FileTask:
    """One file to parse: its manifest path (inside ``root``), dialect, and the catalog entries
    (``{table: columns}``) to resolve it with, or None for a plain first-pass parse."""

    path: str
    dialect: str
    catalog: dict[str, tuple[str, ...]] | None = field(default=None, hash=False, compare=False)


@dataclass(frozen=True)
class FileResult:
    """The encoded lineage of one task, how long it took, and the worker's peak RSS so far (bytes)."""

    task: FileTask
    encoded: Encoded
    ms: float
    worker_peak_rss: int = 0


@dataclass(eq=False)
class _Worker:
    process: subprocess.Popen
    conn: Connection
    pending: deque = field(default_factory=deque)
    """Tasks sent and not answered yet, in the order the worker handles them."""
    chunk_left: deque = field(default_factory=deque)
    """Unanswered task count of each outstanding chunk."""
    last_progress: float = 0.0
    """When the worker last became ready, was handed work while idle, or answered a file."""
    ready: bool = False
    started: float = field(default_factory=time.monotonic)

    def deadline(self, file_timeout_s: float) -> float:
        if not self.ready:
            return self.started + max(_STARTUP_TIMEOUT_S, file_timeout_s)
        return self.last_progress + file_timeout_s


@dataclass
class PoolStats:
    """What the pool went through: workers replaced after a crash or a timeout."""

    workers: int = 0
    crashes: int = 0
    timeouts: int = 0
    worker_peak_rss: int = 0


class ParsePool:
    """``parse(tasks)`` yields a ``FileResult`` for every task, in completion order, never raising for a file."""

    def __init__(
        self,
        root: Path,
        max_file_bytes: int,
        workers: int | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        file_timeout_s: float = DEFAULT_FILE_TIMEOUT_S,
    ):
        if (workers is not None and workers < 1) or chunk_size < 1 or file_timeout_s <= 0:
            raise ValueError(f"parse pool needs workers >= 1, chunk_size >= 1, file_timeout_s > 0; "
                             f"got {workers}, {chunk_size}, {file_timeout_s}")
        self.root = Path(root)
        self.max_file_bytes = max_file_bytes
        self.chunk_size = chunk_size
        self.file_timeout_s = file_timeout_s
        self.stats = PoolStats(workers=workers or default_workers())
        self._workers: list[_Worker] = []
        self._restarts = 0

    def __enter__(self) -> "ParsePool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def worker_pids(self) -> list[int]:
        """Process ids of the current workers."""
        return [w.process.pid for w in self._workers]

    def _start_worker(self) -> _Worker:
        parent, child = socket.socketpair()
        with child:
            process = subprocess.Popen(
                [sys.executable, "-m", "lineage_pipeline.pipeline.parse_worker", str(child.fileno()),
                 str(self.root), str(self.max_file_bytes)],
                pass_fds=[child.fileno()], stdin=subprocess.DEVNULL,
            )
        return _Worker(process, Connection(parent.detach()))

    def _stop(self, worker: _Worker, kill: bool) -> None:
        if not kill:
            try:
                worker.conn.send(None)
            except OSError:
                kill = True
        if kill:
            worker.process.kill()
        try:
            worker.process.wait(5)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()
        worker.conn.close()

    def close(self) -> None:
        """Stop every worker."""
        for worker in self._workers:
            self._stop(worker, kill=False)
        self._workers = []

    def parse(self, tasks: Iterable[FileTask]) -> Iterator[FileResult]:
        """Parse ``tasks``; reads them lazily and keeps at most ``2 * workers`` chunks outstanding."""
        self.stats = PoolStats(workers=self.stats.workers)
        todo = iter(tasks)
        retry: deque[list[FileTask]] = deque()
        while len(self._workers) < self.stats.workers:
            self._workers.append(self._start_worker())

        def next_chunk() -> list[FileTask]:
            if retry:
                return retry.popleft()
            chunk = []
            for task in todo:
                chunk.append(task)
                if len(chunk) == self.chunk_size:
                    break
            return chunk

        while True:
            for worker in self._workers:
                while len(worker.chunk_left) < _CHUNKS_PER_WORKER:
                    chunk = next_chunk()
                    if not chunk:
                        break
                    if not self._send(worker, chunk):
                        retry.appendleft(chunk)
                        break
            busy = [w for w in self._workers if w.pending]
            if not busy:
                return
            deadline = min(w.deadline(self.file_timeout_s) for w in busy)
            ready = wait([w.conn for w in busy], timeout=max(0.0, deadline - time.monotonic()))
            for worker in busy:
                if worker.conn in ready:
                    result = self._receive(worker, retry)
                    if result is not None:
                        yield result
                elif time.monotonic() >= worker.deadline(self.file_timeout_s):
                    if not worker.ready:
                        self._requeue(worker, retry)
                        self._restart(worker)
                        continue
                    self.stats.timeouts += 1
                    yield self._replace(
                        worker, retry,
                        f"parsing took longer than {self.file_timeout_s:g} s (file_timeout_s); worker stopped",
                    )

    def _send(self, worker: _Worker, chunk: list[FileTask]) -> bool:
        """Hand ``chunk`` to ``worker``; False if the worker is gone (an idle one is replaced at once)."""
        try:
            worker.conn.send([(t.path, t.dialect, t.catalog) for t in chunk])
        except OSError:
            if not worker.pending:
                self._restart(worker)
            return False  # a busy worker's death shows up as EOF on its pipe, which blames its current file
        if not worker.pending:
            worker.last_progress = time.monotonic()
        worker.pending.extend(chunk)
        worker.chunk_left.append(len(chunk))
        return True

    def _restart(self, worker: _Worker) -> None:
        self._stop(worker, kill=True)
        self._restarts += 1
        if self._restarts > _MAX_RESTARTS_WITHOUT_PROGRESS:
            raise RuntimeError(
                f"parser worker processes keep dying before finishing any file ({self._restarts} restarts in a row)"
            )
        self._workers[self._workers.index(worker)] = self._start_worker()

    def _receive(self, worker: _Worker, retry: deque) -> FileResult | None:
        """The worker's next message: a file's result, or None for its start-up signal or a start-up crash."""
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):
            try:
                code = worker.process.wait(5)
            except subprocess.TimeoutExpired:
                code = None
            if not worker.ready:
                self._requeue(worker, retry)
                self._restart(worker)
                return None
            self.stats.crashes += 1
            return self._replace(worker, retry, f"parser worker process died (exit code {code}) while parsing this file")
        if message == READY:
            worker.ready = True
            worker.last_progress = time.monotonic()
            return None
        ms, encoded, peak = message
        task = worker.pending.popleft()
        self._restarts = 0
        worker.last_progress = time.monotonic()
        worker.chunk_left[0] -= 1
        if worker.chunk_left[0] == 0:
            worker.chunk_left.popleft()
        self.stats.worker_peak_rss = max(self.stats.worker_peak_rss, peak)
        return FileResult(task, encoded, ms, peak)

    def _requeue(self, worker: _Worker, retry: deque) -> None:
        if worker.pending:
            retry.appendleft(list(worker.pending))
            worker.pending.clear()

    def _replace(self, worker: _Worker, retry: deque, message: str) -> FileResult:
        """Blame the file the worker was on, requeue the rest of its work, start a fresh worker."""
        culprit = worker.pending.popleft()
        spent_ms = (time.monotonic() - worker.last_progress) * 1000
        self._requeue(worker, retry)
        self._restart(worker)
        failure = encode(error_lineage(culprit.path, culprit.dialect, message), reusable=False)
        return FileResult(culprit, failure, spent_ms)


_shared: tuple[tuple, ParsePool] | None = None
_shared_lock = threading.Lock()


@contextmanager
def reusable_pool(
    root: Path, max_file_bytes: int, workers: int, chunk_size: int, file_timeout_s: float
) -> Iterator[ParsePool]:
    """A pool that stays alive for the next call with the same arguments, so the domains of one ingest
    (run one after another in one process) pay the workers' start-up once. Closed when the arguments
    change, after an error, and at exit; a concurrent caller gets a pool of its own."""
    global _shared
    key = (str(root), max_file_bytes, workers, chunk_size, file_timeout_s)
    with _shared_lock:
        taken, _shared = _shared, None
    if taken is not None and taken[0] != key:
        taken[1].close()
        taken = None
    pool = taken[1] if taken else ParsePool(root, max_file_bytes, workers, chunk_size, file_timeout_s)
    try:
        yield pool
    except BaseException:
        pool.close()
        raise
    with _shared_lock:
        if _shared is None:
            _shared, pool = (key, pool), None
    if pool is not None:
        pool.close()


@atexit.register
def _close_shared() -> None:
    global _shared
    with _shared_lock:
        taken, _shared = _shared, None
    if taken is not None:
        taken[1].close()
