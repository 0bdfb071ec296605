"""A full rebuild of the PostgreSQL search index in parallel (``manage.py search_rebuild``).

modelsearch's ``update_index`` writes every entry through one process into a table whose
GIN indexes are updated row by row. For a city-sized index this module does what a bulk
load into PostgreSQL wants instead:

1. empty the index table and drop its GIN indexes (their definitions are kept);
2. index every object of every indexed model through the backend's own ``add_items``,
   by *workers* forked processes over chunks of primary keys, every title norm written
   from one estimate of the mean title length (a sample of the objects' titles);
3. set right the title norms the exact mean finds off (none, when the estimate is
   close), vacuum and analyse the table while only its b-tree indexes exist;
4. build the GIN indexes again, one per connection, *workers* at a time, then analyse
   once more (the statistics of the ``title || body`` expression come from its index).

The GIN indexes are built again whatever happens in step 2 or 3 (a failed rebuild leaves
a complete table structure and is run again). While it runs, searches find only what
is indexed so far: a maintenance task, for a quiet hour.
"""

import multiprocessing
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import connection, connections
from modelsearch.backends.database.postgres.postgres import IndexEntry
from modelsearch.index import get_indexed_models


@dataclass
class RebuildReport:
    objects: int = 0
    seconds: dict = field(default_factory=dict)
    worker_cpu: float = 0.0  # CPU seconds the workers spent indexing (Python side)


def gin_definitions(table):
    """(name, CREATE INDEX statement) of every GIN index of *table*."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s"
            " AND indexdef ILIKE '%% USING gin %%' ORDER BY indexname",
            [table],
        )
        return cursor.fetchall()


def _index_chunk(task):
    """Index one chunk in a forked worker: (model label, primary keys, mean title length)
    -> (objects indexed, CPU seconds spent)."""
    from django.apps import apps
    from modelsearch.backends import get_search_backend

    cpu = time.process_time()
    label, pks, title_average = task
    model = apps.get_model(label)
    backend = get_search_backend()
    objects = list(model.get_indexed_objects().filter(pk__in=pks).order_by("pk"))
    if objects:
        index = backend.get_index_for_model(model)
        index.add_items(model, objects, title_average=title_average)
    return len(objects), time.process_time() - cpu


#: Objects whose titles estimate the mean title length before a rebuild writes anything.
TITLE_SAMPLE_OBJECTS = 2000


def estimated_title_average(backend, listed):
    """The mean title length (distinct lexemes of a non-empty title vector) over a random
    sample of the objects in *listed* ((model, primary keys) pairs, sampled in proportion),
    or None when none has a title; exact when they are no more than the sample.

    Every worker writes title_norm from this one figure. Without it the first entries,
    written while the table was small, and those written from a sample of a growing table
    were set right by an UPDATE at the end: each such row moved to a new place in the
    heap, and at 100k articles the first 60 % of the table was left nearly empty, which
    every scan in table order then read through."""
    total = sum(len(pks) for _model, pks in listed)
    lengths = []
    for model, pks in listed:
        if not pks:
            continue
        count = min(len(pks), max(1, round(TITLE_SAMPLE_OBJECTS * len(pks) / total)))
        chosen = random.sample(pks, count)
        objects = list(model.get_indexed_objects().filter(pk__in=chosen))
        lengths += backend.get_index_for_model(model).title_lengths(model, objects)
    titled = [n for n in lengths if n > 0]
    return sum(titled) / len(titled) if titled else None


#: Database connections a forked worker inherited from its parent: set aside, never used
#: or closed there (their sockets are the parent's; closing one would end its session).
_inherited = []


def _own_connections():
    """Pool initializer: a forked worker opens database connections of its own.

    The parent closes its connections before the fork; one that stayed open (held by a
    wrapper of another thread, or inside a transaction) was shared by both workers, whose
    statements then crossed on one socket ("the last operation didn't produce records")."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            _inherited.append(conn.connection)
            conn.connection = None
        conn.in_atomic_block = False
        conn.savepoint_ids = []
        conn.needs_rollback = False
        conn.closed_in_transaction = False


def _build(definition):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '1GB'")
            cursor.execute(definition)
    finally:
        connection.close()


def indexed_models():
    return [m for m in get_indexed_models() if m.get_search_fields()]


def rebuild(backend, workers=2, chunk=2000, progress=None):
    """Rebuild the whole index of *backend* (a SegmentedPostgresSearchBackend)."""
    from search.analysis import get_lexicon

    report = RebuildReport()
    table = IndexEntry._meta.db_table
    get_lexicon()  # loaded once here, shared by the forked workers
    started = time.perf_counter()
    gin = gin_definitions(table)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")
        for name, _ in gin:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    report.seconds["empty"] = time.perf_counter() - started
    try:
        # The objects are listed after the table is emptied: one saved before this point
        # is in the list, one saved after it writes its own entry (upserts meet).
        listed = [
            (model, list(model.get_indexed_objects().order_by("pk").values_list("pk", flat=True)))
            for model in indexed_models()
        ]
        average = estimated_title_average(backend, listed)
        tasks = [
            (model._meta.label, pks[i : i + chunk], average)
            for model, pks in listed
            for i in range(0, len(pks), chunk)
        ]
        t = time.perf_counter()
        connections.close_all()  # the forked workers open their own
        with multiprocessing.get_context("fork").Pool(workers, _own_connections) as pool:
            for count, cpu in pool.imap_unordered(_index_chunk, tasks):
                report.objects += count
                report.worker_cpu += cpu
                if progress:
                    progress(report.objects)
        report.seconds["index"] = time.perf_counter() - t

        t = time.perf_counter()
        index = backend.get_index_for_model(indexed_models()[0]) if tasks else None
        if index is not None:
            index._refresh_title_norms(full=True)
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")
        report.seconds["norms_vacuum"] = time.perf_counter() - t
    finally:
        t = time.perf_counter()
        connection.close()
        with ThreadPoolExecutor(max(1, workers)) as pool:
            list(pool.map(_build, [definition for _, definition in gin]))
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
        report.seconds["gin_analyze"] = time.perf_counter() - t
    report.seconds["total"] = time.perf_counter() - started
    return report
