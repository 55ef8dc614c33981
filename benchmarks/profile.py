"""``lineage bench profile``: where a cold ingest spends its time - parse vs qualify vs lineage vs write vs IPC.

Two measurements on one generated corpus:

- in-process parser breakdown: every file through ``parse_file_bytes`` in this process with timers
  around statement splitting, sqlglot tokenize+parse, sqlglot qualify and result encoding; whatever
  is left of a file's time is lineage extraction (scopes, column derivation, effects, models).
  Timers are exclusive (a nested timed call is not counted twice).
- one cold optimized pass (``ingest_pass``): scan, the first parse's wall time against the CPU its
  workers spent on files (the difference is pool start-up, IPC and cache writes), the corpus-catalog
  pass, and the graph write.
"""

import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from benchmarks.generate import DOMAIN_DIALECTS, GeneratedCorpus
from lineage_pipeline.parsing import extraction, parser
from lineage_pipeline.stores import parse_cache

_TIMED = (
    (parser, "split_script", "split"),
    (parser, "_parse_chunk", "sqlglot parse"),
    (extraction, "qualify_query", "sqlglot qualify"),
)


@dataclass
class ParserProfile:
    """Exclusive seconds per parser phase over ``files`` files parsed in one process."""

    files: int = 0
    total_s: float = 0.0
    phases: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def shares(self) -> dict[str, float]:
        return {name: seconds / self.total_s for name, seconds in self.phases.items()} if self.total_s else {}


@contextmanager
def _timers(phases: dict[str, float]) -> Iterator[None]:
    """Patch the timed functions with exclusive-time wrappers for the duration of the block."""
    stack: list[list[float]] = []

    def wrap(function: Callable, name: str) -> Callable:
        def timed(*args, **kwargs):
            stack.append([time.perf_counter(), 0.0])
            try:
                return function(*args, **kwargs)
            finally:
                started, nested = stack.pop()
                elapsed = time.perf_counter() - started
                phases[name] += elapsed - nested
                if stack:
                    stack[-1][1] += elapsed

        return timed

    originals = [(module, attr, getattr(module, attr)) for module, attr, _ in _TIMED]
    try:
        for (module, attr, name), (_, _, original) in zip(_TIMED, originals, strict=True):
            setattr(module, attr, wrap(original, name))
        yield
    finally:
        for module, attr, original in originals:
            setattr(module, attr, original)


def profile_parser(corpus: GeneratedCorpus) -> ParserProfile:
    """Parse every file of ``corpus`` in this process and split the time into phases."""
    profile = ParserProfile()
    payloads = [((corpus.root / p).read_bytes(), DOMAIN_DIALECTS[p.split("/")[0]], p) for p in corpus.paths]
    with _timers(profile.phases):
        started = time.perf_counter()
        for data, dialect, path in payloads:
            lineage = parser.parse_file_bytes(data, dialect, path)
            encode_started = time.perf_counter()
            parse_cache.encode(lineage)
            profile.phases["encode for cache/IPC"] += time.perf_counter() - encode_started
        profile.total_s = time.perf_counter() - started
    profile.files = len(payloads)
    profile.phases["lineage extraction (rest)"] = profile.total_s - sum(profile.phases.values())
    return profile


def figure(figures: Mapping[str, object], key: str) -> float:
    """Number ``key`` of a pass summary (whose values are numbers, ``None`` and nested dicts)."""
    value = figures[key]
    if not isinstance(value, int | float):
        raise TypeError(f"pass summary {key!r} is {value!r}, not a number")
    return float(value)


def pipeline_rows(figures: Mapping[str, object], workers: int) -> list[tuple[str, float]]:
    """(component, seconds) of one pass summary: scan, parse CPU in workers, pool/IPC overhead, catalog
    resolution, write. Parse wall time (first passes of every domain, then catalog resolution) minus its
    workers' CPU share is the pool's overhead (start-up, IPC, cache writes, idle tails)."""
    workers = max(1, workers)
    parse_cpu = figure(figures, "parse_cpu_s") + figure(figures, "catalog_parse_cpu_s")
    return [
        ("scan + manifest", figure(figures, "scan_s")),
        (f"parse in workers (CPU / {workers} workers)", parse_cpu / workers),
        ("pool start-up, IPC, cache writes, idle tails", max(0.0, figure(figures, "parse_s") - parse_cpu / workers)),
        ("graph write", figure(figures, "write_s")),
    ]
