"""Tasks of the core: the worker's heartbeat, which the health check reports."""

import json
import os
import socket

from celery import shared_task
from django.conf import settings
from django.db import connection
from django.utils import timezone

HEARTBEAT_FILE = "worker-heartbeat.json"


@shared_task
def heartbeat(token: str = "") -> dict:
    """Prove that a worker runs, reaches the database and writes under DATA_DIR."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM cms_user")
        users = cursor.fetchone()[0]
    beat = {
        "at": timezone.now().isoformat(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "users": users,
        "token": token,
    }
    path = settings.DATA_DIR / HEARTBEAT_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(beat, ensure_ascii=False))
    os.replace(tmp, path)  # readers never see half a file
    return beat


def last_heartbeat() -> dict | None:
    try:
        return json.loads((settings.DATA_DIR / HEARTBEAT_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return None


@shared_task(ignore_result=True)
def refresh_db_statistics() -> None:
    """The query planner's table statistics, kept current as the data grows."""
    from .dbstats import refresh_statistics

    refresh_statistics()


@shared_task
def clear_expired_sessions() -> None:
    """Expired sessions pile up in the database; the session engine removes them here."""
    from importlib import import_module

    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()


@shared_task(ignore_result=True)
def finish_demo(steps: list[str]) -> None:
    """The demo steps that ``load_demo --background`` left for the worker, in order."""
    import logging

    from .demo import run_background_step

    for step in steps:
        try:
            run_background_step(step)
        except Exception:  # one failed step does not keep the others from running
            logging.getLogger(__name__).exception("demo step %s failed", step)


@shared_task(ignore_result=True)
def sweep_orphaned_media() -> int:
    """Move uploads that no row refers to (a process killed mid-upload) out of media."""
    from cms.media_sweep import sweep

    return len(sweep().found)
