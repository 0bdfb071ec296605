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


@contextmanager
def index_write_lock(index_dir: Path, timeout: float):
    """Hold the writer lock of ``index_dir``; raise ``IndexBusy`` after ``timeout`` seconds."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusy(f"search index {index_dir} is busy") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
