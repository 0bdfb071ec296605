"""One writer at a time, across every web and worker process on the machine.

An exclusive ``flock`` on a file inside the index directory; waiting is bounded so a
request never hangs behind a long rebuild — the caller gets ``IndexBusy`` and defers.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = "writer.lock"


class IndexBusy(Exception):
    """Another process held the index writer lock for longer than we may wait."""


class WriteLock:
    """The writer lock held across calls (a full rebuild holds it from start to finish)."""

    def __init__(self, index_dir: Path, timeout: float):
        index_dir.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(index_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + timeout
            delay = 0.01
            while True:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise IndexBusy(f"search index {index_dir} is busy") from None
                    time.sleep(delay)
                    delay = min(delay * 2, 0.2)
        except BaseException:
            os.close(self._fd)
            self._fd = None
            raise

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None


@contextmanager
def index_write_lock(index_dir: Path, timeout: float):
    """Hold the writer lock of ``index_dir``; raise ``IndexBusy`` after ``timeout`` seconds."""
    lock = WriteLock(index_dir, timeout)
    try:
        yield
    finally:
        lock.release()
