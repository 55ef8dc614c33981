"""Progress of long steps: a bar with rate and ETA on a terminal, nothing in logs.

The ingest service reports what it has done through a ``Progress``; the caller decides where it goes.
A run started by ``lineage ingest`` on a terminal carries ``PROGRESS_TAG``; its steps then draw tqdm
bars on the controlling terminal (``/dev/tty``: Dagster captures a step's stdout and stderr). Any other
run (CI, the daemon, redirected output) reports nothing.
"""

from collections.abc import Mapping
from typing import Protocol, TextIO

from tqdm import tqdm


class Progress(Protocol):
    """Receives the progress of one step at a time."""

    def begin(self, step: str, total: int | None) -> None:
        """A step of ``total`` units (None: not known ahead) starts."""

    def advance(self, done: int = 1) -> None:
        """``done`` more units of the current step are finished."""

    def end(self) -> None:
        """The current step is over."""


class NoProgress:
    """Reports nothing."""

    def begin(self, step: str, total: int | None) -> None:
        pass

    def advance(self, done: int = 1) -> None:
        pass

    def end(self) -> None:
        pass


PROGRESS_TAG = "lineage/progress"
"""Run tag asking the run's steps to draw progress on the terminal (value ``terminal``)."""


class TerminalProgress:
    """One tqdm bar per step on ``stream``, labelled ``<domain>: <step>``, with rate and ETA."""

    def __init__(self, domain: str, stream: TextIO):
        self.domain = domain
        self.stream = stream
        self._bar: tqdm | None = None

    def begin(self, step: str, total: int | None) -> None:
        self.end()
        self._bar = tqdm(total=total, desc=f"{self.domain}: {step}", unit="file", file=self.stream, leave=False,
                         dynamic_ncols=True, mininterval=0.5)

    def advance(self, done: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(done)

    def end(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def run_progress(domain: str, tags: Mapping[str, str]) -> Progress:
    """Bars on the controlling terminal for a run whose ``tags`` ask for them and that has one, else nothing."""
    if tags.get(PROGRESS_TAG) != "terminal":
        return NoProgress()
    try:
        stream = open("/dev/tty", "w")
    except OSError:
        return NoProgress()
    return TerminalProgress(domain, stream)
