"""A time budget per search (issue 15: one query must never stall the site).

The parser's limits (search/query_syntax.py) refuse what is known to be expensive before
anything runs; this is the safety net for what is not: ``with time_budget(seconds):``
around a search, and the engine calls :func:`check` between units of work (a term's
postings, a character's pair terms, a segment, a searchable type, a relaxed retry). Past
the deadline :class:`SearchTooSlow` (a ``QuerySyntaxError``: callers already show its
Chinese message) stops the search. The deadline belongs to the thread that set it.
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


@contextmanager
def time_budget(seconds: float | None = None):
    """Searches in this block (this thread) stop after ``seconds``; nested budgets keep
    the earlier deadline."""
    seconds = default_seconds() if seconds is None else seconds
    previous = getattr(_local, "deadline", None)
    deadline = time.monotonic() + seconds
    _local.deadline = deadline if previous is None else min(previous, deadline)
    try:
        yield
    finally:
        _local.deadline = previous


def remaining() -> float | None:
    """Seconds left (None without a budget)."""
    deadline = getattr(_local, "deadline", None)
    return None if deadline is None else deadline - time.monotonic()


def check() -> None:
    deadline = getattr(_local, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise SearchTooSlow()
