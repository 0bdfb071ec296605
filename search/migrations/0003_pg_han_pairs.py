"""The Han character pairs of every index entry, for the PostgreSQL backend (search.pg_backend).

A Han word of a query is found as a word or as a substring of the stored text. The index
narrowed that substring test by the word's single characters, which at a million entries
left tens of thousands of rows to read for 罚款 五十万元 二十万元. The pairs of adjacent Han
characters of the title and body text (``han_pairs``, a vector without positions, written by
the backend with each entry) narrow it to the rows that hold every pair of the word.

The same migration keeps an entry's row whole (``toast_tuple_target``), and empties
modelsearch's unused GIN index of the body vector alone (see BODY_ONLY).

Existing entries get their pairs here, with the GIN indexes dropped while they are written
and built again afterwards; on SQLite (the Whoosh set-up) nothing happens. A large index
leaves dead row versions behind: ``VACUUM ANALYZE wagtailsearch_indexentry`` afterwards (or
``manage.py search_rebuild``, which writes every entry anew).
"""

import re

from django.db import migrations

TABLE = "wagtailsearch_indexentry"
INDEX = "search_indexentry_han_pairs_gin"
CHUNK = 5000


def fill(connection):
    """Write the pairs of every entry that has none."""
    from search.pg_backend import han_pairs

    with connection.cursor() as cursor:
        last = 0
        while True:
            cursor.execute(
                f"SELECT id, title_text, body_text FROM {TABLE}"
                " WHERE id > %s AND han_pairs IS NULL ORDER BY id LIMIT %s",
                [last, CHUNK],
            )
            rows = cursor.fetchall()
            if not rows:
                break
            last = rows[-1][0]
            cursor.execute(
                f"UPDATE {TABLE} AS e SET han_pairs = array_to_tsvector(string_to_array(v.hp, ' '))"
                " FROM unnest(%s::bigint[], %s::text[]) AS v(id, hp) WHERE e.id = v.id",
                [[row[0] for row in rows], [" ".join(han_pairs(row[1], row[2])) for row in rows]],
            )


#: modelsearch's GIN index of the body vector alone. This backend never searches that
#: column alone (it searches ``title || body``, migration 0002), so the index was only
#: written and rebuilt: a third of the GIN build time. It is kept by name, empty (a
#: partial index of no rows), so that Wagtail's own migrations still find it.
BODY_ONLY = re.compile(r"USING gin \(body\)$")


def _definitions(schema_editor):
    from search.pg_rebuild import gin_definitions

    definitions = []
    for name, definition in gin_definitions(TABLE):
        if BODY_ONLY.search(definition):
            definition += " WHERE false"
        definitions.append((name, definition))
    return definitions


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS han_pairs tsvector")
    # An entry of a law article is about 2 KB with its pairs: kept whole in its row, not
    # compressed or moved to the TOAST table (whose reads the substring tests paid for).
    schema_editor.execute(f"ALTER TABLE {TABLE} SET (toast_tuple_target = 8160)")
    # Writing a value into every row inserts each row into every GIN index again (a
    # million entries: 11 minutes); without them it is the Python work and one build of
    # each index.
    gin = _definitions(schema_editor)
    for name, _definition in gin:
        schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")
    fill(schema_editor.connection)
    schema_editor.execute("SET LOCAL maintenance_work_mem = '1GB'")
    for _name, definition in gin:
        schema_editor.execute(definition)
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON {TABLE} USING gin (han_pairs)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from search.pg_rebuild import gin_definitions

    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
    schema_editor.execute(f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS han_pairs")
    schema_editor.execute(f"ALTER TABLE {TABLE} RESET (toast_tuple_target)")
    for name, definition in gin_definitions(TABLE):
        if definition.endswith(" WHERE false"):
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")
            schema_editor.execute(definition.removesuffix(" WHERE false"))


class Migration(migrations.Migration):
    dependencies = [
        ("site_search", "0002_pg_title_body_index"),
    ]

    operations = [migrations.RunPython(create, drop)]
