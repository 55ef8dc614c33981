"""Parse files in worker processes, in chunks, with bounded work in flight and per-file fault isolation.

Each worker owns a socket: the parent sends it a chunk of files, the worker answers file by file,
so the parent always knows which file a worker is on. A worker that dies, uses more than
``file_timeout_s`` of CPU time on one file (the kernel stops it: ``parse_worker.limit_cpu``) or sits on
one far longer in wall-clock time (``wall_clock_limit``), is killed and replaced; that file gets an error record and the rest
of its chunk is sent again. At most ``2 * workers`` chunks are outstanding, so memory does not grow
with the corpus.

How a worker starts (``start_method``): ``"fork"`` forks the parent, which has the parser imported,
so the worker is ready at once; ``"spawn"`` starts a fresh interpreter (``parse_worker``, ~0.3 s of
imports; multiprocessing's forkserver and spawn children would also re-import the parent's
``__main__``, about a second and tens of MB each). ``"auto"`` (default) forks
only where that is known to be safe - ``os.fork`` exists and the OS counts a single thread in the
process (Linux) - and spawns otherwise, e.g. in a process with threads (a Dagster run process may have
some), which may hold locks a forked child would inherit.
"""

import gc
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import warnings
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Literal, Protocol

from lineage_pipeline.pipeline import parse_worker
from lineage_pipeline.pipeline.parse_worker import READY, error_lineage
from lineage_pipeline.settings import knob_default
from lineage_pipeline.stores.parse_cache import Encoded, encode

_CHUNKS_PER_WORKER = 2
_MAX_RESTARTS_WITHOUT_PROGRESS = 20
_STARTUP_TIMEOUT_S = 60.0

_WALL_CLOCK_FACTOR = 3
_WALL_CLOCK_GRACE_S = 2.0

StartMethod = Literal["auto", "fork", "spawn"]
START_METHODS: tuple[str, ...] = ("auto", "fork", "spawn")


@dataclass(frozen=True)
class FileTask:
    """One file to parse: its manifest path (inside ``root``), dialect, the catalog entries
    (``{table: columns}``) to resolve it with (None: a plain first-pass parse), the SHA-256 the
    manifest scanned (None: not checked), and the encoded lineage and statement memo of the file's
    previous parse (``ParseResults.previous``), whose unchanged statements the parse takes over."""

    path: str
    dialect: str
    catalog: dict[str, tuple[str, ...]] | None = field(default=None, hash=False, compare=False)
    sha256: str | None = field(default=None, compare=False)
    previous: tuple[bytes, bytes] | None = field(default=None, hash=False, compare=False, repr=False)


@dataclass(frozen=True)
class FileResult:
    """The encoded lineage of one task, how long it took, and the worker's peak RSS so far (bytes)."""

    task: FileTask
    encoded: Encoded
    ms: float
    worker_peak_rss: int = 0


def wall_clock_limit(file_timeout_s: float) -> float:
    """Wall-clock seconds a worker may spend on one file: the per-file limit is CPU time, enforced in the
    worker (``parse_worker.limit_cpu``), so a loaded machine does not cut a file short; this looser bound
    only catches a worker that waits without using CPU."""
    return file_timeout_s * _WALL_CLOCK_FACTOR + _WALL_CLOCK_GRACE_S


def guided_chunk_size(left: int, chunk_size: int, workers: int) -> int:
    """Files in the next chunk when ``left`` files remain: ``chunk_size`` while there is plenty, then a
    share of what is left, so that every worker gets work from a short list and no worker is still on a
    full chunk while the others idle at the end."""
    return max(1, min(chunk_size, -(-left // (workers * _CHUNKS_PER_WORKER))))


def thread_count() -> int | None:
    """Threads of this process as the OS counts them (it also sees threads started by C libraries);
    None where the OS does not say (no ``/proc``, e.g. macOS)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return None


def _checked(start_method: str) -> str:
    if start_method not in START_METHODS:
        raise ValueError(f"parse pool start_method must be one of {', '.join(START_METHODS)}; got {start_method!r}")
    return start_method


def resolve_start_method(requested: str) -> Literal["fork", "spawn"]:
    """What ``requested`` means in this process now. ``"auto"`` forks only with ``os.fork`` and one
    thread by the OS's count (unknown counts as unsafe). An explicit ``"fork"`` is obeyed, with a
    ``RuntimeWarning`` if other threads run; where there is no ``os.fork`` it is an error."""
    if _checked(requested) == "spawn":
        return "spawn"
    if not hasattr(os, "fork"):
        if requested == "fork":
            raise RuntimeError("parse pool start_method='fork' but this platform has no os.fork; use 'auto' or 'spawn'")
        return "spawn"
    os_threads = thread_count()
    threads = max(threading.active_count(), os_threads or 1)
    if requested == "auto":
        return "fork" if os_threads is not None and threads == 1 else "spawn"
    if threads != 1:
        warnings.warn(
            f"parse pool start_method='fork' in a process running {threads} threads: a forked worker could "
            "inherit a lock one of them holds; 'auto' would spawn here",
            RuntimeWarning, stacklevel=2,
        )
    return "fork"


class _Process(Protocol):
    """The part of ``subprocess.Popen`` the pool uses."""

    pid: int

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None: ...


@dataclass(eq=False)
class ForkedProcess:
    """A child made by ``os.fork``, with ``Popen``'s ``pid``/``poll``/``wait``/``kill``; ``wait`` reaps it
    (``os.waitpid``) and ``returncode`` follows Popen's convention (``-N`` for signal N)."""

    pid: int
    returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere (SIGCHLD ignored): its status is lost, as in Popen
                self.returncode = 0
                return self.returncode
            if pid == self.pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if timeout is None:
            while self.returncode is None:
                try:
                    _, status = os.waitpid(self.pid, 0)
                except ChildProcessError:
                    self.returncode = 0
                else:
                    self.returncode = os.waitstatus_to_exitcode(status)
            return self.returncode
        deadline = time.monotonic() + timeout
        delay = 0.0005
        while (code := self.poll()) is None:  # as Popen.wait does: waitpid has no timeout
            left = deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired(f"forked parse worker {self.pid}", timeout)
            delay = min(delay * 2, left, 0.05)
            time.sleep(delay)
        return code

    def kill(self) -> None:
        if self.returncode is None:  # not reaped yet, so the pid is still ours even if the child has exited
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


_parent_ends: "weakref.WeakSet[Connection]" = weakref.WeakSet()
"""The parent's ends of every pool's worker sockets; a forked child closes its copies, so a worker sees
end-of-file as soon as the parent lets its socket go, whoever else was forked after it."""


def _serve_forked(
    conn_fd: int, root: Path, max_file_bytes: int, warm: tuple[str, ...] = (), cpu_limit_s: float | None = None
) -> int:
    """The forked child's whole life: drop what is the parent's, serve, return the exit code."""
    try:
        # the parent's Python-level handlers (Dagster's, the CLI's) must not run here; a handler set to
        # ignore is kept, as an exec'd interpreter would inherit it
        for signum in signal.valid_signals():
            if signum in (signal.SIGKILL, signal.SIGSTOP):
                continue
            try:
                handler = signal.getsignal(signum)
                if signum in (signal.SIGINT, signal.SIGTERM) or callable(handler):
                    signal.signal(signum, signal.SIG_DFL)
            except (OSError, ValueError):
                continue
        try:
            signal.set_wakeup_fd(-1)  # the parent's wake-up pipe (asyncio's) is not for this process
        except ValueError:
            pass
        for conn in list(_parent_ends):
            if not conn.closed:
                os.close(conn.fileno())
        parse_worker.serve(Connection(conn_fd), root, max_file_bytes, warm, cpu_limit_s)
        return 0
    except BaseException:  # noqa: BLE001 - whatever stops the child becomes its exit code, never the parent's code path
        try:  # straight to the descriptor: the parent's stream buffers are not ours to flush
            os.write(2, f"parse worker {os.getpid()} failed:\n{traceback.format_exc()}".encode(errors="replace"))
        except OSError:  # no stderr to tell: the exit code still says it
            pass
        return 1


@dataclass(eq=False)
class _Worker:
    process: _Process
    conn: Connection
    method: Literal["fork", "spawn"] = "spawn"
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
        return self.last_progress + wall_clock_limit(file_timeout_s)


@dataclass
class PoolStats:
    """What the pool went through: workers replaced after a crash or a timeout."""

    workers: int = 0
    crashes: int = 0
    timeouts: int = 0
    worker_peak_rss: int = 0
    """Largest peak RSS a worker reported; a forked worker's counts the pages it shares with the parent."""
    forked: int = 0
    spawned: int = 0
    """Workers started during this ``parse`` call, by start method (a reused pool's workers are not counted again)."""


class ParsePool:
    """``parse(tasks)`` yields a ``FileResult`` for every task, in completion order, never raising for a file."""

    def __init__(
        self,
        root: Path,
        max_file_bytes: int,
        workers: int | None = None,
        chunk_size: int | None = None,
        file_timeout_s: float | None = None,
        start_method: StartMethod = "auto",
    ):
        """``start_method``: see the module docstring; decided afresh at each worker start. Unset knobs take
        the settings' defaults."""
        workers = knob_default("workers") if workers is None else workers
        chunk_size = knob_default("parse_chunk_size") if chunk_size is None else chunk_size
        file_timeout_s = knob_default("parse_file_timeout_s") if file_timeout_s is None else file_timeout_s
        if workers < 1 or chunk_size < 1 or file_timeout_s <= 0:
            raise ValueError(f"parse pool needs workers >= 1, chunk_size >= 1, file_timeout_s > 0; "
                             f"got {workers}, {chunk_size}, {file_timeout_s}")
        self.root = Path(root)
        self.max_file_bytes = max_file_bytes
        self.chunk_size = chunk_size
        self.file_timeout_s = file_timeout_s
        self.start_method = _checked(start_method)
        self.stats = PoolStats(workers=workers)
        self.warm_dialects: tuple[str, ...] = ()
        self._workers: list[_Worker] = []
        self._restarts = 0
        self._stats_from_start = False  # ``start`` began the stats the next ``parse`` reports

    def __enter__(self) -> "ParsePool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def worker_pids(self) -> list[int]:
        """Process ids of the current workers."""
        return [w.process.pid for w in self._workers]

    def worker_start_methods(self) -> list[str]:
        """How each current worker was started: ``"fork"`` or ``"spawn"``."""
        return [w.method for w in self._workers]

    def _start_workers(self, count: int) -> list[_Worker]:
        if resolve_start_method(self.start_method) == "spawn":
            return self._start_each(count, self._spawn)
        for stream in (sys.stdout, sys.stderr):  # else the children inherit, and might repeat, pending output
            try:
                if stream is not None:
                    stream.flush()
            except (OSError, ValueError):
                pass
        # the children never collect the parent's objects (an open SQLite connection, a socket): every
        # object is frozen out of their GC, and they leave by os._exit, so no finalizer of ours runs
        # there. No gc.collect() first: freezing alone gives that, and a full collection costs ~0.1 s
        # in a process with Dagster loaded and leaves freed holes in pages the children would share.
        already_frozen = gc.get_freeze_count() > 0
        gc.freeze()
        try:
            return self._start_each(count, self._fork)
        finally:
            if not already_frozen:  # someone else's freeze (a pre-fork server of their own) stays theirs
                gc.unfreeze()

    def _start_each(self, count: int, start: Callable[[], _Worker]) -> list[_Worker]:
        """``count`` workers, or none: those started before a failure are stopped."""
        started: list[_Worker] = []
        try:
            for _ in range(count):
                started.append(start())
        except BaseException:
            for worker in started:
                self._stop(worker, kill=True)
            raise
        return started

    def _fork(self) -> _Worker:
        parent, child = socket.socketpair()
        try:
            pid = os.fork()
        except BaseException:
            parent.close()
            child.close()
            raise
        if pid == 0:
            code = 1
            try:
                parent.close()
                code = _serve_forked(child.detach(), self.root, self.max_file_bytes, self.warm_dialects, self.file_timeout_s)
            finally:
                os._exit(code)
        child.close()
        return self._worker(ForkedProcess(pid), parent, "fork")

    def _spawn(self) -> _Worker:
        parent, child = socket.socketpair()
        with child:
            try:
                process = subprocess.Popen(
                    [sys.executable, "-m", "lineage_pipeline.pipeline.parse_worker", str(child.fileno()),
                     str(self.root), str(self.max_file_bytes), ",".join(self.warm_dialects), str(self.file_timeout_s)],
                    pass_fds=[child.fileno()], stdin=subprocess.DEVNULL,
                )
            except BaseException:
                parent.close()
                raise
        return self._worker(process, parent, "spawn")

    def _worker(self, process: _Process, parent: socket.socket, method: Literal["fork", "spawn"]) -> _Worker:
        conn = Connection(parent.detach())
        _parent_ends.add(conn)
        if method == "fork":
            self.stats.forked += 1
        else:
            self.stats.spawned += 1
        return _Worker(process, conn, method)

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

    def start(self, warm_dialects: Iterable[str] = ()) -> None:
        """Start the workers now instead of at the first ``parse``, each warmed up in ``warm_dialects``
        (``parse_worker.warm_up``) before it reports ready, so that their start-up overlaps with whatever
        the caller does before it has files to hand out."""
        self.warm_dialects = tuple(sorted(set(warm_dialects)))
        if not self._stats_from_start:
            self.stats = PoolStats(workers=self.stats.workers)
            self._stats_from_start = True
        if len(self._workers) < self.stats.workers:
            self._workers += self._start_workers(self.stats.workers - len(self._workers))

    def parse(self, tasks: Iterable[FileTask]) -> Iterator[FileResult]:
        """Parse ``tasks``; reads them lazily and keeps at most ``2 * workers`` chunks outstanding. When
        ``tasks`` has a length, chunks shrink towards the end (``guided_chunk_size``)."""
        if not self._stats_from_start:
            self.stats = PoolStats(workers=self.stats.workers)
        self._stats_from_start = False
        left = len(tasks) if isinstance(tasks, Sized) else None
        todo = iter(tasks)
        retry: deque[list[FileTask]] = deque()

        def next_chunk() -> list[FileTask]:
            nonlocal left
            if retry:
                return retry.popleft()
            size = self.chunk_size if left is None else guided_chunk_size(left, self.chunk_size, self.stats.workers)
            chunk = []
            for task in todo:
                chunk.append(task)
                if len(chunk) == size:
                    break
            if left is not None:
                left -= len(chunk)
            return chunk

        if len(self._workers) < self.stats.workers:
            self._workers += self._start_workers(self.stats.workers - len(self._workers))

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
                if retry:  # a worker that died before it was given work has been replaced: hand it out again
                    continue
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
                        f"parsing took longer than {wall_clock_limit(self.file_timeout_s):g} s of wall-clock time without "
                        "finishing; worker stopped",
                    )

    def _send(self, worker: _Worker, chunk: list[FileTask]) -> bool:
        """Hand ``chunk`` to ``worker``; False if the worker is gone (an idle one is replaced at once)."""
        try:
            worker.conn.send([(t.path, t.dialect, t.catalog, t.sha256, t.previous) for t in chunk])
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
        self._workers[self._workers.index(worker)] = self._start_workers(1)[0]

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
            if code == -signal.SIGXCPU:
                self.stats.timeouts += 1
                return self._replace(
                    worker, retry,
                    f"parsing used more than {self.file_timeout_s:g} s of CPU time (parse_file_timeout_s); worker stopped",
                )
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


class PoolKeeper:
    """Keeps the last pool it opened alive for the next call with the same arguments, so the domains of
    one ingest (parsed one after another by one owner) pay the workers' start-up once. Its owner (a
    Dagster resource, a CLI command, a benchmark pass) closes it; a pool is also closed when the
    arguments change and after an error."""

    def __init__(self) -> None:
        self._kept: tuple[tuple, ParsePool] | None = None

    def __enter__(self) -> "PoolKeeper":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def pool(
        self, root: Path, max_file_bytes: int, workers: int, chunk_size: int, file_timeout_s: float,
        start_method: StartMethod,
    ) -> Iterator[ParsePool]:
        """The kept pool if it was opened with these arguments, else a new one (the old one is closed)."""
        key = (str(root), max_file_bytes, workers, chunk_size, file_timeout_s, start_method)
        taken, self._kept = self._kept, None
        if taken is not None and taken[0] != key:
            taken[1].close()
            taken = None
        pool = taken[1] if taken else ParsePool(root, max_file_bytes, workers, chunk_size, file_timeout_s, start_method)
        try:
            yield pool
        except BaseException:
            pool.close()
            raise
        if self._kept is None:
            self._kept = (key, pool)
        else:  # a pool opened (and kept) while this one was in use: keep one, stop the other
            pool.close()

    def close(self) -> None:
        """Stop the kept pool's workers."""
        taken, self._kept = self._kept, None
        if taken is not None:
            taken[1].close()
