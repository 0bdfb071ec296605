"""Reuse of a search's ranked hits while the index has not changed (issue 15).

Paging through a result list, clicking a facet, switching the sort or several people
searching the same words before a session ask the engine the same question again. The
hits a user's query collected (ranked, with their facet values) are kept in the process
for a short while, per type of hit, keyed by the user, the query as parsed and the
state of the index for that type:

* a commit that adds, changes or removes a document of the type (or of the models its
  hits are shown with: an article's policy) makes the next search of that type ask the
  engine again; a commit that touched only other types leaves it (an answer uploaded to a
  suggestion does not throw away the hits on law articles). A commit whose types are not
  known (a rebuild, a bulk import) counts as touching every type;
* a reused list is checked against what the user may see *now*, in the database, before
  it is shown: a document unpublished or a suggestion taken from a deputy's reach drops out
  at once, with its counts and facets;
* entries live at most ``SEARCH_RESULT_CACHE_SECONDS`` (default 120; 0 turns reuse off),
  which bounds what the generation cannot see (a role gained, a row changed without being
  re-indexed), and the process keeps at most ``SEARCH_RESULT_CACHE_HITS`` hits in all,
  the least recently used entries leaving first.

Only backends that report a generation (the Whoosh backend) are cached; a backend without
one is always asked.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from django.conf import settings


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


class ResultCache:
    """A small LRU of ranked hit lists, safe to share between a process's threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, tuple[float, list]] = OrderedDict()
        self._hits = 0
        self.reused = 0

    @staticmethod
    def seconds() -> int:
        return _setting("SEARCH_RESULT_CACHE_SECONDS", 120)

    def get(self, key: tuple) -> list | None:
        seconds = self.seconds()
        if seconds <= 0:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored_at, hits = entry
            if time.monotonic() - stored_at > seconds:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            self.reused += 1
            return hits

    def put(self, key: tuple, hits: list) -> None:
        if self.seconds() <= 0:
            return
        budget = _setting("SEARCH_RESULT_CACHE_HITS", 30_000)
        if len(hits) > budget:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (time.monotonic(), hits)
            self._hits += len(hits)
            while self._hits > budget and self._entries:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: tuple) -> None:
        _stored_at, hits = self._entries.pop(key)
        self._hits -= len(hits)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._hits = 0


results = ResultCache()


def cache_key(backend: Any, user, query_key: str, type_key: str, models=()) -> tuple | None:
    """The key of ``user``'s hits of one type (``type_key``, hits made from ``models``)
    for ``query_key`` at the index's current state for those models, or None when the
    backend cannot say which state it answers from."""
    generation = getattr(backend, "result_generation", None)
    if generation is None:
        return None
    current = generation(models)
    if current is None:
        return None
    user_key = user.pk if getattr(user, "is_authenticated", False) else None
    return (current, user_key, query_key, type_key)
