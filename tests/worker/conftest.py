"""Helpers of the tests that use a real Celery worker process.

The process itself is the ``celery_worker_process`` fixture of tests/worker/fixtures.py,
loaded for the whole tree by tests/conftest.py and started once per test session.
"""

import time


def wait_for(predicate, timeout=60.0, interval=0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    return None
