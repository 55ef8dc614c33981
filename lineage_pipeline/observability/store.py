"""prometheus-client metric values kept in the multiprocess files of one explicit directory.

prometheus-client's own multiprocess mode takes its directory from ``PROMETHEUS_MULTIPROC_DIR`` and
grows its memory-mapped files sparsely, so a write into a new page of a file on a full filesystem
kills the process with SIGBUS. Here the directory is an argument, and every file is allocated on disk
(``posix_fallocate``) to the size its keys need before it is mapped: a full filesystem is an
``OSError`` when metrics are configured, never a signal later. The files keep prometheus-client's
format and names (``counter_<pid>.db``, ``gauge_livesum_<pid>.db``...), so its
``MultiProcessCollector`` aggregates them as usual.

All metric keys are known when metrics are configured (no labels), so a file never grows after that.
"""

import logging
import mmap
import os
import struct
import threading
from collections.abc import Iterable
from pathlib import Path

from prometheus_client.mmap_dict import MmapedDict, mmap_key

log = logging.getLogger(__name__)

_lock = threading.Lock()
_files: dict[tuple[str, str], MmapedDict | None] = {}  # (directory, file prefix) -> this process's open file
_pid = os.getpid()


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # a parent thread may have held it at the fork


os.register_at_fork(after_in_child=_after_fork_in_child)


def file_prefix(typ: str, multiprocess_mode: str = "") -> str:
    """prometheus-client's file name prefix for a metric type (gauges: one file per aggregation mode)."""
    return f"{typ}_{multiprocess_mode}" if typ == "gauge" else typ


def entry_bytes(key: str) -> int:
    """Bytes one key takes in a multiprocess file (length, key padded to 8 bytes, value, timestamp)."""
    encoded = len(key.encode("utf-8"))
    return 4 + encoded + (8 - (encoded + 4) % 8) + 16


def file_bytes(keys: Iterable[str]) -> int:
    """Size to allocate for a file holding ``keys``: header plus entries, in whole pages."""
    used = 8 + sum(entry_bytes(key) for key in keys)
    return -(-used // mmap.PAGESIZE) * mmap.PAGESIZE


def _check_pid() -> None:
    """After a fork the child writes its own files (named by its pid); the parent's maps are dropped."""
    global _pid
    if os.getpid() != _pid:
        for mapped in _files.values():
            if mapped is not None:
                mapped.close()
        _files.clear()
        _pid = os.getpid()


def allocate(path: Path, size: int) -> None:
    """Create ``path`` (if needed) with at least ``size`` bytes allocated on disk, holes included.

    Raises OSError (ENOSPC when the filesystem is full); a file this call created is then removed, so
    no empty file is left for the collector to choke on.
    """
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        current = os.fstat(fd).st_size
        # a file left by an earlier process with the same pid keeps its entries; ours go after them
        used = struct.unpack("i", os.pread(fd, 4, 0))[0] if current >= 4 else 0  # the header, as MmapedDict writes it
        os.posix_fallocate(fd, 0, max(current, used + size))
    except OSError:
        os.close(fd)
        fd = -1
        if created:
            path.unlink(missing_ok=True)
        raise
    finally:
        if fd >= 0:
            os.close(fd)


def open_file(directory: Path, prefix: str, size: int) -> MmapedDict:
    """This process's ``<prefix>_<pid>.db`` in ``directory``, allocated, then mapped. Caller holds ``_lock``."""
    _check_pid()
    key = (str(directory), prefix)
    mapped = _files.get(key)
    if mapped is None:
        path = directory / f"{prefix}_{os.getpid()}.db"
        allocate(path, size)
        mapped = _files[key] = MmapedDict(str(path))
    return mapped


def close_directory(directory: Path) -> None:
    """Unmap this process's files of ``directory`` (values written stay in them)."""
    with _lock:
        for key in [k for k in _files if k[0] == str(directory)]:
            mapped = _files.pop(key)
            if mapped is not None:
                mapped.close()


def value_class(directory: Path, sizes: dict[str, int]):
    """A prometheus-client value class whose values live in ``directory``'s files.

    ``sizes``: bytes to allocate per file prefix (see ``file_bytes``). Values read-modify-write their
    file under one lock, so several metric objects on the same directory in one process add up instead
    of overwriting each other. A file that cannot be allocated after a fork (disk full) turns its values
    into no-ops with one warning, never an exception in the caller.
    """
    warned: set[str] = set()

    class DirectoryValue:
        _multiprocess = True

        def __init__(self, typ, metric_name, name, labelnames, labelvalues, help_text, multiprocess_mode="", **_):
            self._prefix = file_prefix(typ, multiprocess_mode)
            self._key = mmap_key(metric_name, name, labelnames, labelvalues, help_text)
            with _lock:
                # registered now, so every metric is exposed from zero; raises OSError if the disk is full
                open_file(directory, self._prefix, sizes[self._prefix]).read_value(self._key)

        def _file(self) -> MmapedDict | None:
            try:
                return open_file(directory, self._prefix, sizes[self._prefix])
            except OSError as error:
                if self._prefix not in warned:
                    warned.add(self._prefix)
                    log.warning("metrics not recorded in %s (process %d): %s", directory, os.getpid(), error.strerror or error)
                return None

        def inc(self, amount: float) -> None:
            with _lock:
                if (mapped := self._file()) is not None:
                    mapped.write_value(self._key, mapped.read_value(self._key)[0] + amount, 0.0)

        def set(self, value: float, timestamp: float | None = None) -> None:
            with _lock:
                if (mapped := self._file()) is not None:
                    mapped.write_value(self._key, value, timestamp or 0.0)

        def get(self) -> float:
            with _lock:
                mapped = self._file()
                return mapped.read_value(self._key)[0] if mapped is not None else 0.0

        def set_exemplar(self, exemplar) -> None:  # not kept in multiprocess mode
            return None

        def get_exemplar(self):
            return None

    return DirectoryValue


def key_probe():
    """A value class that only notes which key each value would store in which file, and that record
    (file prefix -> keys): building the metrics with it first sizes their files."""
    keys: dict[str, list[str]] = {}

    class KeyProbe:
        def __init__(self, typ, metric_name, name, labelnames, labelvalues, help_text, multiprocess_mode="", **_):
            keys.setdefault(file_prefix(typ, multiprocess_mode), []).append(
                mmap_key(metric_name, name, labelnames, labelvalues, help_text)
            )

        def inc(self, amount: float) -> None: ...

        def set(self, value: float, timestamp: float | None = None) -> None: ...

        def get(self) -> float:
            return 0.0

        def set_exemplar(self, exemplar) -> None: ...

        def get_exemplar(self):
            return None

    return KeyProbe, keys
