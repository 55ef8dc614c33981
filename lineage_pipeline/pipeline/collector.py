"""Garbage-collector settings of a process that ingests (the ``lineage`` command, a benchmark pass).

At 100k files a domain's manifest, stored results and cache summaries are tens of thousands of small
objects, none of them in a reference cycle. With the default first threshold (700) building each
such structure set off collections that re-scanned the whole heap: more than half of the time of a
manifest load and ~1.4 s of driver CPU in a 1 %-changed pass. Cycles are still collected, just later,
which costs memory: `lineage ingest` of 20k files peaks at 305 MB against 261 MB with the default
thresholds (100k files: 525 MB); a first threshold of 20,000 gives 281 MB but a third of the time back.
"""

import gc

INGEST_THRESHOLDS = (100_000, 10, 10)
"""Allocations before a young collection, and young/middle collections before an older one."""


def tune_for_ingest() -> None:
    """Collect rarely: for a process whose work is building large acyclic structures."""
    gc.set_threshold(*INGEST_THRESHOLDS)
