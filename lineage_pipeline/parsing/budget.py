"""Per-statement time budget, checked cooperatively between and inside the extraction steps.

The budget is CPU time of this process (``time.process_time``), not wall-clock time: on a loaded
machine the same statement gets the same budget of work, so whether it is cut short does not depend on
what else runs. An overrun becomes a ``ParseIssue(limited=True)``, which is never cached as final.
"""

import time

DEFAULT_STATEMENT_SECONDS = 2.0
"""CPU seconds for one statement's parse and lineage; overruns become a limited ParseIssue."""


class BudgetExceeded(Exception):
    """Raised by ``Deadline.check`` once the statement's budget is spent."""


class Deadline:
    """A point in time after which ``check()`` raises ``BudgetExceeded``."""

    __slots__ = ("_end", "budget")

    def __init__(self, seconds: float):
        self.budget = seconds
        self._end = time.process_time() + seconds

    def check(self) -> None:
        if time.process_time() > self._end:
            raise BudgetExceeded(f"statement exceeded its {self.budget:g}s time budget")
