"""Table statistics for the database's query planner.

SQLite plans a query from ``sqlite_stat1``, which only ``ANALYZE`` writes; without it the
planner guesses, and some guesses are ruinous. Found under load (issue 15): the articles a
user may see among 2,000 search hits were looked up through the index on their document
once per (document, hit) pair, 618,000 probes and 80 ms, instead of 2,000 key look-ups
(3 ms) once the statistics said how many rows each index holds. PostgreSQL's autovacuum
analyses by itself; an explicit ANALYZE after a bulk import still makes the next queries
plan on the new sizes.

``refresh_statistics`` runs after bulk imports and the demo, and hourly in the worker
(``cms.tasks.refresh_db_statistics``). ``analysis_limit`` bounds SQLite's work per index,
so it takes milliseconds at a county's size and stays short on a large database.
"""

from django.db import connections

#: rows SQLite samples per index (0 would read them all)
SQLITE_ANALYSIS_LIMIT = 2000


def refresh_statistics(using: str = "default") -> None:
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
        cursor.execute("ANALYZE")
