"""Per-statement time budget, checked cooperatively between and inside the extraction steps."""

import time

DEFAULT_STATEMENT_SECONDS = 2.0
"""Wall-clock budget for one statement's parse and lineage; overruns become a ParseIssue."""


class BudgetExceeded(Exception):
    """Raised by ``Deadline.check`` once the statement's budget is spent."""


class Deadline:
    """A point in time after which ``check()`` raises ``BudgetExceeded``."""

    __slots__ = ("_end", "budget")

    def __init__(self, seconds: float):
        self.budget = seconds
        self._end = time.perf_counter() + seconds

    def check(self) -> None:
        if time.perf_counter() > self._end:
            raise BudgetExceeded(f"statement exceeded its {self.budget:g}s time budget")
