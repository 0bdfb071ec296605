import uuid

import pytest

from cms.tasks import heartbeat, last_heartbeat

from .conftest import wait_for

pytestmark = [pytest.mark.worker]


def test_real_worker_runs_a_task_against_the_test_database(celery_worker_process, make_user):
    make_user(username="someone")
    token = uuid.uuid4().hex
    heartbeat.delay(token)
    beat = wait_for(lambda: (b := last_heartbeat()) and b["token"] == token and b, timeout=90)
    assert beat, "the worker did not run the task in time"
    assert beat["users"] >= 1
    assert beat["pid"] != __import__("os").getpid()  # it ran in the worker, not here
