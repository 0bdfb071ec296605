"""A time budget per search (issue 15: one query must never stall the site).

The parser's limits (search/query_syntax.py) refuse what is known to be expensive before
anything runs; this is the safety net for what is not: ``with time_budget(seconds):``
around a search, and the engine calls :func:`check` between units of work (a term's
postings, a character's pair terms, a segment, a searchable type, a relaxed retry). Past
the deadline :class:`SearchTooSlow` (a ``QuerySyntaxError``: callers already show its
Chinese message) stops the search. The deadline belongs to the thread that set it.

The budget is counted in the thread's **CPU time** (``SEARCH_TIME_BUDGET``, 2 s): on a
busy two-core machine a cheap query can wait seconds for a core, and refusing it then
would punish the user for other people's load; what a query costs is the CPU it burns.
A wall-clock cap (``SEARCH_WALL_BUDGET``, 10 s) still stops a search that is starved
altogether.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

from django.conf import settings

from .query_syntax import QuerySyntaxError

_local = threading.local()


class SearchTooSlow(QuerySyntaxError):
    """The search ran past its time budget."""

    def __init__(self, message: str | None = None):
        super().__init__(
            message
            or "检索耗时超过限制，已停止。请增加更具体的词语、减少单字或“|”（或者），"
            "或用引号检索确切的短语后再试。"
        )


def default_seconds() -> float:
    return float(getattr(settings, "SEARCH_TIME_BUDGET", 2.0))


def wall_seconds() -> float:
    return float(getattr(settings, "SEARCH_WALL_BUDGET", 10.0))


@contextmanager
def time_budget(seconds: float | None = None, wall: float | None = None):
    """Searches in this block (this thread) stop after ``seconds`` of CPU time or
    ``wall`` seconds of wall time; nested budgets keep the earlier deadlines."""
    seconds = default_seconds() if seconds is None else seconds
    wall = wall_seconds() if wall is None else wall
    previous = getattr(_local, "deadline", None)
    deadline = (time.thread_time() + seconds, time.monotonic() + wall)
    if previous is not None:
        deadline = (min(previous[0], deadline[0]), min(previous[1], deadline[1]))
    _local.deadline = deadline
    try:
        yield
    finally:
        _local.deadline = previous


def check() -> None:
    deadline = getattr(_local, "deadline", None)
    if deadline is not None and (
        time.thread_time() > deadline[0] or time.monotonic() > deadline[1]
    ):
        raise SearchTooSlow()
