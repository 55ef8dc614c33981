"""Parse files in worker processes, in chunks, with bounded work in flight and per-file fault isolation.

Each worker owns a pipe: the parent sends it a chunk of files, the worker answers file by file, so
the parent always knows which file a worker is on. A worker that dies, or spends longer than
``file_timeout_s`` on one file, is killed and replaced; that file gets an error record and the rest
of its chunk is sent again. At most ``2 * workers`` chunks are outstanding, so memory does not grow
with the corpus. Workers come from a ``forkserver`` context (no fork of a threaded Dagster process)
with the parser preloaded, so starting or replacing one is cheap.
"""

import multiprocessing
import os
import resource
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path

from lineage_pipeline.corpus.files import CorpusPathError, resolve_inside
from lineage_pipeline.parsing import parse_file_bytes
from lineage_pipeline.parsing.models import FileLineage, ParseIssue
from lineage_pipeline.stores.parse_cache import Encoded, encode

DEFAULT_CHUNK_SIZE = 16
DEFAULT_FILE_TIMEOUT_S = 120.0
_CHUNKS_PER_WORKER = 2


def default_workers() -> int:
    """``min(4, cpu_count)``."""
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class FileTask:
    """One file to parse: its manifest path (inside ``root``) and dialect."""

    path: str
    dialect: str


@dataclass(frozen=True)
class FileResult:
    """The encoded lineage of one task, how long it took, and the worker's peak RSS so far (bytes)."""

    task: FileTask
    encoded: Encoded
    ms: float
    worker_peak_rss: int = 0


def read_and_parse(root: Path, task: FileTask, max_file_bytes: int) -> FileLineage:
    """Lineage of one corpus file; unreadable, oversized or escaping files become an error record."""
    try:
        path = resolve_inside(root, task.path)
        size = path.stat().st_size
        if size > max_file_bytes:
            message = f"file is {size} bytes, over the {max_file_bytes}-byte limit (max_file_bytes); not parsed"
            return _error(task, message)
        data = path.read_bytes()
    except (OSError, CorpusPathError) as error:
        return _error(task, f"cannot read file: {error}")
    return parse_file_bytes(data, task.dialect, task.path)


def _error(task: FileTask, message: str) -> FileLineage:
    return FileLineage(path=task.path, dialect=task.dialect, errors=[ParseIssue(message=message)])


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def _worker_main(conn: Connection, root: str, max_file_bytes: int) -> None:
    """Worker loop: receive a chunk (list of tasks), send ``(ms, encoded, peak_rss)`` per file; None stops."""
    root_path = Path(root)
    while True:
        chunk = conn.recv()
        if chunk is None:
            return
        for task in chunk:
            started = time.perf_counter()
            encoded = encode(read_and_parse(root_path, task, max_file_bytes))
            conn.send(((time.perf_counter() - started) * 1000, encoded, _peak_rss()))


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    pending: deque = field(default_factory=deque)
    """Tasks sent and not answered yet, in the order the worker handles them."""
    chunks: int = 0
    last_progress: float = 0.0


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
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["lineage_pipeline.pipeline.parse_pool"])
        self._workers: list[_Worker] = []

    def __enter__(self) -> "ParsePool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def worker_pids(self) -> list[int]:
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    def _start_worker(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_worker_main, args=(child, str(self.root), self.max_file_bytes), daemon=True,
            name="lineage-parse-worker",
        )
        process.start()
        child.close()
        return _Worker(process, parent)

    def _stop(self, worker: _Worker, kill: bool) -> None:
        if kill:
            worker.process.kill()
        else:
            try:
                worker.conn.send(None)
            except OSError:
                worker.process.kill()
        worker.process.join(5)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()

    def close(self) -> None:
        """Stop every worker."""
        for worker in self._workers:
            self._stop(worker, kill=False)
        self._workers = []

    def parse(self, tasks: Iterable[FileTask]) -> Iterator[FileResult]:
        """Parse ``tasks``; reads them lazily and keeps at most ``2 * workers`` chunks outstanding."""
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

        exhausted = False
        while True:
            for worker in self._workers:
                while not exhausted and worker.chunks < _CHUNKS_PER_WORKER:
                    chunk = next_chunk()
                    if not chunk:
                        exhausted = not retry
                        break
                    if not worker.pending:
                        worker.last_progress = time.monotonic()
                    worker.conn.send(chunk)
                    worker.pending.extend(chunk)
                    worker.chunks += 1
            busy = [w for w in self._workers if w.pending]
            if not busy:
                if exhausted and not retry:
                    return
                continue
            deadline = min(w.last_progress for w in busy) + self.file_timeout_s
            ready = wait([w.conn for w in busy], timeout=max(0.0, deadline - time.monotonic()))
            for worker in busy:
                if worker.conn in ready:
                    result = self._receive(worker, retry)
                    if result is not None:
                        yield result
                elif time.monotonic() - worker.last_progress >= self.file_timeout_s:
                    self.stats.timeouts += 1
                    yield self._replace(
                        worker, retry,
                        f"parsing took longer than {self.file_timeout_s:g} s (file_timeout_s); worker stopped",
                        kill=True,
                    )
            exhausted = exhausted and not retry

    def _receive(self, worker: _Worker, retry: deque) -> FileResult | None:
        try:
            ms, encoded, peak = worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(5)
            code = worker.process.exitcode
            self.stats.crashes += 1
            return self._replace(worker, retry, f"parser worker process died (exit code {code}) while parsing this file")
        task = worker.pending.popleft()
        worker.last_progress = time.monotonic()
        self.stats.worker_peak_rss = max(self.stats.worker_peak_rss, peak)
        if self._chunk_done(worker):
            worker.chunks -= 1
        return FileResult(task, encoded, ms, peak)

    def _chunk_done(self, worker: _Worker) -> bool:
        # chunks are sent whole, so a chunk ends whenever the outstanding count drops to a chunk boundary;
        # tracking sizes keeps this exact when chunks have different lengths
        sizes = worker.__dict__.setdefault("_sizes", deque())
        return False if not sizes else sizes[0] == 0

    def _replace(self, worker: _Worker, retry: deque, message: str, kill: bool = False) -> FileResult:
        """Blame the file the worker was on, requeue the rest of its work, start a fresh worker."""
        culprit = worker.pending.popleft()
        rest = list(worker.pending)
        if rest:
            retry.appendleft(rest)
        self._stop(worker, kill=True) if kill or worker.process.is_alive() else worker.conn.close()
        self._workers[self._workers.index(worker)] = self._start_worker()
        lineage = _error(culprit, message)
        return FileResult(culprit, encode(lineage), (time.monotonic() - worker.last_progress) * 1000)
