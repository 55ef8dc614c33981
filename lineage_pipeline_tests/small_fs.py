"""A real small filesystem for disk-full tests: a tmpfs mounted for the test, filled by the test."""

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

SKIP_REASON = "a disk-full test needs to mount a small tmpfs (root / CAP_SYS_ADMIN)"


@contextmanager
def mounted_tmpfs(mount_point: Path, size_mb: int) -> Iterator[Path]:
    """``mount_point`` as a tmpfs of ``size_mb`` MB for the block (the test skips, saying why, where mounting
    is impossible); unmounted afterwards."""
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(mount_point)],
        capture_output=True, text=True, check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"{SKIP_REASON}: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
