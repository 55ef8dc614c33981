"""A parse worker: ``serve`` in a child forked by ``parse_pool``, or a fresh interpreter
``python -m lineage_pipeline.pipeline.parse_worker FD ROOT MAX_FILE_BYTES [WARM_DIALECTS [CPU_LIMIT_S]]``.

Reads chunks of ``(path, dialect, catalog, sha256, previous)`` (catalog: ``{table: columns}`` or None;
sha256: the content the manifest scanned, or None; previous: the encoded lineage and statement memo of
the file's last parse, or None) from the connection on file descriptor FD and answers each file
with ``(ms, Encoded, peak_rss_bytes)`` as soon as it is parsed; ``None`` stops it. Its first message,
``READY``, says the imports are done and the parser warmed up in any dialects it was given (start-up
time is not charged to a file). The fresh interpreter
(not multiprocessing's spawn) never re-imports the parent's ``__main__`` (a Dagster or CLI process)
and stays small.
"""

import gc
import hashlib
import math
import resource
import sys
import time
from collections.abc import Iterable
from multiprocessing.connection import Connection
from pathlib import Path

from lineage_pipeline.corpus.files import CorpusPathError, resolve_inside
from lineage_pipeline.parsing import Catalog, Parsed, Previous, decode_memo, parse_file, parse_file_bytes
from lineage_pipeline.parsing.models import FileLineage, ParseIssue
from lineage_pipeline.stores.parse_cache import decode, encode

READY = "ready"


def error_lineage(path: str, dialect: str, message: str) -> FileLineage:
    """A file-level error record for ``path``."""
    return FileLineage(path=path, dialect=dialect, errors=[ParseIssue(message=message)])


CHANGED_MESSAGE = (
    "file changed after this run scanned it (its content no longer has the scanned SHA-256): lineage is of "
    "the content read now, kept for this run only; the next run rescans the file"
)


def read_and_parse(
    root: Path,
    path: str,
    dialect: str,
    max_file_bytes: int,
    catalog: Catalog | None = None,
    sha256: str | None = None,
    previous: Previous | None = None,
) -> tuple[Parsed, bool]:
    """Lineage of one corpus file (resolved with ``catalog`` if given; statements unchanged since
    ``previous`` taken from it), and whether it is of the content ``sha256`` names (always True without
    one); unreadable, oversized or escaping files become an error record. A file that changed since the
    scan is parsed as read, with an issue saying so. The flag is False for any result that is not a final
    fact about the scanned content (changed, unreadable, over the size limit, cut short by a time
    budget): it is kept for this run only, without a memo."""
    try:
        resolved = resolve_inside(root, path)
        size = resolved.stat().st_size
        if size > max_file_bytes:
            message = f"file is {size} bytes, over the {max_file_bytes}-byte limit (max_file_bytes); not parsed"
            # not a fact about the content: the same bytes parse once the limit is raised
            return Parsed(error_lineage(path, dialect, message)), False
        data = resolved.read_bytes()
    except (OSError, CorpusPathError) as error:
        return Parsed(error_lineage(path, dialect, f"cannot read file: {error}")), False
    parsed = parse_file(data, dialect, path, catalog, previous=previous)
    if sha256 is None or hashlib.sha256(data).hexdigest() == sha256:
        # a statement a time budget cut short says what this run managed, not what the content holds
        if any(issue.limited for issue in parsed.lineage.errors):
            return parsed._replace(memo=None), False
        return parsed, True
    lineage = parsed.lineage
    return Parsed(lineage.model_copy(update={"errors": [*lineage.errors, ParseIssue(message=CHANGED_MESSAGE)]})), False


def earlier_parse(path: str, previous: tuple[bytes, bytes] | None) -> Previous | None:
    """The ``Previous`` of a task's ``(payload, memo)``; None when there is none or it does not decode
    (a damaged row only costs the reuse)."""
    if previous is None:
        return None
    entries = decode_memo(previous[1])
    if not entries:
        return None
    try:
        return Previous(decode(previous[0], path), entries)
    except ValueError:
        return None


_WARM_UP_SQL = b"INSERT INTO w.t (a, b) SELECT s.a, UPPER(s.b) FROM w.s AS s JOIN w.u AS u ON u.a = s.a WHERE s.c = 1;\n"


def warm_up(dialects: Iterable[str]) -> None:
    """Parse one small statement in each dialect: the parser's first use in a process (lazy imports,
    a dialect's tokenizer and parser set-up) costs ~10-30 ms a dialect, paid here instead of by a file."""
    for dialect in dialects:
        try:
            parse_file_bytes(_WARM_UP_SQL, dialect, "warm-up.sql")
        except Exception:  # noqa: BLE001 - a warm-up is an optimisation; the files themselves report errors
            continue


def limit_cpu(seconds: float) -> None:
    """Let this process use at most ``seconds`` more CPU time (whole seconds, rounded up): past it the
    kernel ends it with SIGXCPU. CPU time, unlike wall-clock time, does not depend on the machine's load,
    so the same file hits the limit or not whatever else runs."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = used.ru_utime + used.ru_stime
    current, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(spent + seconds)
    wanted = soft if hard == resource.RLIM_INFINITY else min(soft, hard)
    if wanted != current:  # most files move it by less than the whole second it is counted in
        resource.setrlimit(resource.RLIMIT_CPU, (wanted, hard))


def serve(
    conn: Connection, root: Path, max_file_bytes: int, warm: Iterable[str] = (), cpu_limit_s: float | None = None
) -> None:
    """Warm up in the ``warm`` dialects, then answer chunks until told to stop (``None``) or the parent goes
    away; with ``cpu_limit_s``, each file may use that much CPU time before the kernel stops the worker."""
    warm_up(warm)
    # what exists now (the modules, a forked parent's heap) lives as long as the worker: frozen, the
    # collector stops re-scanning it, and a higher first threshold lets each file's short-lived syntax
    # trees go before a collection finds them (parse CPU -8 to -11 % per file, results unchanged)
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    conn.send(READY)
    while True:
        try:
            chunk = conn.recv()
        except EOFError:
            return
        if chunk is None:
            return
        for path, dialect, tables, sha256, previous in chunk:
            if cpu_limit_s is not None:
                limit_cpu(cpu_limit_s)
            started = time.perf_counter()
            catalog = Catalog(tables) if tables is not None else None
            parsed, as_scanned = read_and_parse(
                root, path, dialect, max_file_bytes, catalog, sha256, earlier_parse(path, previous)
            )
            # a result that is not a final fact about the key's content must never be served as its result
            encoded = encode(parsed.lineage, reusable=as_scanned, memo=parsed.memo, reused=parsed.reused)
            conn.send(((time.perf_counter() - started) * 1000, encoded, peak_rss()))


def peak_rss() -> int:
    """This process's peak resident set in bytes: ``VmHWM``, which starts afresh at exec (``ru_maxrss``
    keeps the parent's peak across exec) but, in a forked child, counts the pages it shares with the parent."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


if __name__ == "__main__":
    warm_dialects = sys.argv[4].split(",") if len(sys.argv) > 4 else []  # optional: comma-separated
    cpu_limit = float(sys.argv[5]) if len(sys.argv) > 5 else None
    serve(Connection(int(sys.argv[1])), Path(sys.argv[2]), int(sys.argv[3]), [d for d in warm_dialects if d], cpu_limit)
