"""The debounce state machine: pending changes per domain, when to flush, what each run covers.

Pure and clock-free (``now`` is passed in), so every transition is unit-testable. The cursor holds
only the pending batch, bounded by ``MAX_CURSOR_PATHS``: beyond it the busiest domains collapse to a
whole-domain rescan, which the manifest reuse keeps cheap.

A domain losing files (``rm -rf`` of its folder under way) is not flushed on the threshold while it still
changes: a run would scan it half deleted and the graph's deletion guard would refuse and fail the run.
Once it is quiet the folder is either gone (a retire batch) or the deletion is real (the guard decides).
"""

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final, Literal

from pydantic import BaseModel, Field, ValidationError

from lineage_pipeline.corpus.files import domain_of
from lineage_pipeline.graph.writer import GUARD_MIN_FILES
from lineage_pipeline.settings import knob_default

CURSOR_VERSION: Final = 3
MAX_CURSOR_PATHS = 500
"""Paths the cursor may name in total; keeps it a few tens of KB whatever the corpus size."""
INTERACTIVE_MAX_FILES = 10
"""A domain batch this small is someone editing: it gets the interactive run priority."""
INTERACTIVE_PRIORITY = "10"
BULK_PRIORITY = "-10"

Trigger = Literal["debounce", "threshold", "realtime", "unbatched", "manual", "recovery"]


class BatchPolicy(BaseModel):
    """The knobs of batching and back-pressure (defaults: the settings')."""

    enable_batching: bool = Field(default_factory=lambda: knob_default("enable_batching"))
    debounce_window_seconds: float = Field(default_factory=lambda: knob_default("debounce_window_seconds"), ge=0)
    batch_size_threshold: int = Field(default_factory=lambda: knob_default("batch_size_threshold"), ge=1)
    max_in_flight_runs: int = Field(default_factory=lambda: knob_default("max_in_flight_runs"), ge=1)


class DomainPending(BaseModel):
    """Pending work of one domain: named paths, or the whole domain (``full``); ``retire`` = folder gone.
    ``deletions`` counts the files seen gone since the domain's last flush (kept when the paths collapse);
    ``last_change`` is when the domain last changed."""

    paths: list[str] = Field(default_factory=list)
    full: bool = False
    retire: bool = False
    deletions: int = Field(default=0, ge=0)
    last_change: float | None = None

    @property
    def size(self) -> int:
        return len(self.paths)


class SensorCursor(BaseModel):
    """Everything the sensor carries from tick to tick (small: no manifest in here)."""

    version: Literal[3] = CURSOR_VERSION
    epoch: str
    generation: int = Field(ge=0)
    pending: dict[str, DomainPending] = Field(default_factory=dict)
    first_change: float | None = None
    last_change: float | None = None
    recovery: bool = False
    flushes_served: int = 0
    retiring: list[str] = Field(default_factory=list)

    def to_json(self) -> str:
        return self.model_dump_json(exclude_defaults=False)

    @property
    def pending_files(self) -> int:
        return sum(p.size for p in self.pending.values())


def parse_cursor(raw: str | None) -> SensorCursor | None:
    """The cursor, or None when it is missing, corrupt or of another format version."""
    if not raw:
        return None
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("version") != CURSOR_VERSION:
            return None
        return SensorCursor.model_validate(data)
    except (ValueError, ValidationError):
        return None


def add_changes(cursor: SensorCursor, paths: list[str], now: float, deleted: Collection[str] = ()) -> SensorCursor:
    """Coalesce changed ``paths`` into the pending set (a path saved ten times is one entry); those also in
    ``deleted`` are gone from disk and count as deletions of their domain."""
    if not paths:
        return cursor
    pending = {d: p.model_copy(deep=True) for d, p in cursor.pending.items()}
    gone = set(deleted)
    for path in paths:
        entry = pending.setdefault(domain_of(path), DomainPending())
        entry.last_change = now
        # a file deleted and re-created counts twice: an overcount only holds a batch a little longer
        entry.deletions += path in gone
        if not entry.full:
            entry.paths.append(path)
    for entry in pending.values():
        entry.paths = sorted(set(entry.paths))
    return cursor.model_copy(
        update={
            "pending": _bounded(pending),
            "first_change": cursor.first_change if cursor.first_change is not None else now,
            "last_change": now,
        }
    )


def mark_domains(cursor: SensorCursor, domains: set[str], now: float, retire: bool = False) -> SensorCursor:
    """Queue whole-domain rescans (recovery), or retirements of domains whose folder is gone."""
    if not domains:
        return cursor
    pending = {d: p.model_copy(deep=True) for d, p in cursor.pending.items()}
    for domain in domains:
        pending[domain] = DomainPending(full=True, retire=retire, last_change=now)
    return cursor.model_copy(
        update={
            "pending": pending,
            "first_change": cursor.first_change if cursor.first_change is not None else now,
            "last_change": now,
        }
    )


def absorb(
    cursor: SensorCursor,
    changed_paths: list[str],
    domains_before: set[str],
    domains_now: set[str],
    now: float,
    deleted: Collection[str] = (),
) -> SensorCursor:
    """Fold one scan into the cursor: changed paths pend (``deleted``: those gone from disk), a vanished
    folder pends its retirement, and a folder that came back is rescanned instead of retired."""
    vanished = domains_before - domains_now
    revived = cursor.model_copy(
        update={
            "pending": {
                d: p.model_copy(update={"retire": False}) if p.retire and d in domains_now else p
                for d, p in cursor.pending.items()
            },
            "retiring": [d for d in cursor.retiring if d not in domains_now],
        }
    )
    kept = [p for p in changed_paths if domain_of(p) not in vanished]
    return mark_domains(add_changes(revived, kept, now, deleted), vanished, now, retire=True)


def _bounded(pending: dict[str, DomainPending]) -> dict[str, DomainPending]:
    """Collapse the domains with most paths to whole-domain rescans until the cursor fits."""
    total = sum(p.size for p in pending.values())
    for domain in sorted(pending, key=lambda d: pending[d].size, reverse=True):
        if total <= MAX_CURSOR_PATHS:
            break
        total -= pending[domain].size
        pending[domain] = pending[domain].model_copy(update={"paths": [], "full": True})
    return pending


@dataclass(frozen=True)
class Batch:
    """The work of one run: a domain and the paths to re-read (None = the whole domain)."""

    domain: str
    paths: tuple[str, ...] | None
    retire: bool
    trigger: Trigger

    @property
    def size(self) -> int | None:
        return None if self.paths is None else len(self.paths)

    @property
    def priority(self) -> str:
        small = self.paths is not None and len(self.paths) <= INTERACTIVE_MAX_FILES
        return INTERACTIVE_PRIORITY if small and not self.retire else BULK_PRIORITY

    def run_key(self, epoch: str, generation: int) -> str:
        """Same batch, same key (a retried tick never double-launches); store epoch and generation
        make it unique per batch, so a reset cursor's rescans are not mistaken for an old batch."""
        body = json.dumps([self.domain, self.paths, self.retire])
        return f"{epoch[:8]}-g{generation}-{self.domain}-{hashlib.sha256(body.encode()).hexdigest()[:12]}"


@dataclass(frozen=True)
class Decision:
    """What a tick does with the pending set: the batches to launch now, the cursor after, and why."""

    batches: list[Batch]
    cursor: SensorCursor
    reason: str


def deleting(entry: DomainPending, now: float, policy: BatchPolicy) -> bool:
    """Whether the domain is losing files right now: at least the deletion guard's floor of files gone
    and a change within the debounce window. The share gone is no guide: a tick can catch ``rm -rf`` at
    10% and the run, starting later, see it finished."""
    return (
        not entry.retire
        and entry.deletions >= GUARD_MIN_FILES
        and entry.last_change is not None
        and now - entry.last_change < policy.debounce_window_seconds
    )


def held_domains(cursor: SensorCursor, now: float, policy: BatchPolicy) -> list[str]:
    """The domains the threshold trigger leaves pending until their deletion has finished."""
    return sorted(d for d, p in cursor.pending.items() if deleting(p, now, policy))


def flush_trigger(cursor: SensorCursor, now: float, policy: BatchPolicy, manual: bool) -> Trigger | None:
    """Why the pending set should go out now, or None to keep accumulating (held domains do not count
    towards the threshold)."""
    if not cursor.pending:
        return None
    if manual:
        return "manual"
    if cursor.recovery:
        return "recovery"
    if not policy.enable_batching:
        return "unbatched"
    if policy.debounce_window_seconds == 0:
        return "realtime"
    held = held_domains(cursor, now, policy)
    ready = [p for d, p in cursor.pending.items() if d not in held]
    if sum(p.size for p in ready) >= policy.batch_size_threshold or any(p.full for p in ready):
        return "threshold"
    if cursor.last_change is not None and now - cursor.last_change >= policy.debounce_window_seconds:
        return "debounce"
    return None


def _batches(cursor: SensorCursor, trigger: Trigger, per_file: bool, held: list[str]) -> list[Batch]:
    batches = []
    for domain in sorted(set(cursor.pending) - set(held)):
        entry = cursor.pending[domain]
        if entry.full or entry.retire:
            batches.append(Batch(domain, None, entry.retire, trigger))
        elif per_file:
            batches.extend(Batch(domain, (path,), False, trigger) for path in entry.paths)
        else:
            batches.append(Batch(domain, tuple(entry.paths), False, trigger))
    # interactive batches first: under back-pressure they are the ones that go out
    return sorted(batches, key=lambda b: (b.priority != INTERACTIVE_PRIORITY, b.domain, b.paths or ()))


def decide(cursor: SensorCursor, now: float, policy: BatchPolicy, in_flight: int, manual: bool = False) -> Decision:
    """Flush (part of) the pending set if a trigger fired and the run queue has room; a threshold flush
    leaves the domains still losing files pending."""
    trigger = flush_trigger(cursor, now, policy, manual)
    # only the threshold holds a domain back: manual, realtime and unbatched flushes are asked for as such
    held = held_domains(cursor, now, policy) if trigger in (None, "threshold") else []
    hold_note = "".join(
        f"; {d}: {cursor.pending[d].deletions} file(s) deleted, waiting for the deletion to finish "
        f"({policy.debounce_window_seconds:g}s without changes in the domain)"
        for d in held
    )
    if trigger is None:
        if not cursor.pending:
            return Decision([], cursor, "no pending changes")
        waited = now - (cursor.last_change or now)
        return Decision(
            [], cursor,
            f"{cursor.pending_files} file(s) pending in {len(cursor.pending)} domain(s); waiting for "
            f"{policy.debounce_window_seconds:g}s without changes (quiet for {waited:.1f}s) or "
            f"{policy.batch_size_threshold} files" + hold_note,
        )
    room = policy.max_in_flight_runs - in_flight
    if room <= 0:
        return Decision(
            [], cursor,
            f"back-pressure: {in_flight} run(s) of the job queued or running (max {policy.max_in_flight_runs}); "
            f"{cursor.pending_files} file(s) in {len(cursor.pending)} domain(s) keep accumulating",
        )
    candidates = _batches(cursor, trigger, per_file=trigger == "unbatched", held=held)
    launched = candidates[:room]
    pending = {d: p.model_copy(deep=True) for d, p in cursor.pending.items()}
    for batch in launched:
        entry = pending[batch.domain]
        if batch.paths is None or set(batch.paths) >= set(entry.paths):
            del pending[batch.domain]
        else:
            entry.paths = [p for p in entry.paths if p not in batch.paths]
    rest = len(candidates) - len(launched)
    after = cursor.model_copy(
        update={
            "pending": pending,
            "recovery": cursor.recovery and bool(pending),
            "first_change": cursor.first_change if pending else None,
            "last_change": cursor.last_change if pending else None,
        }
    )
    reason = f"{trigger} flush: {len(launched)} run(s)"
    if rest:
        reason += f"; {rest} more held back (max {policy.max_in_flight_runs} in flight, {in_flight} already)"
    return Decision(launched, after, reason + hold_note)
