"""A real small filesystem for disk-full tests: a tmpfs mounted for the test, filled by the test."""

import os
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


def fill(directory: Path, *, leave_bytes: int = 0) -> Path:
    """Fill ``directory``'s filesystem to the last byte, then give ``leave_bytes`` back; returns the ballast
    file (delete it to free the space)."""
    ballast = directory / "ballast"
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for chunk in (1 << 20, 4096, 1):  # big chunks, then the last page, then the last bytes
            try:
                while True:
                    os.write(fd, b"\0" * chunk)
            except OSError:
                pass
        if leave_bytes:
            os.ftruncate(fd, max(0, os.fstat(fd).st_size - leave_bytes))
    finally:
        os.close(fd)
    return ballast
