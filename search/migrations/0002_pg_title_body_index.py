"""A GIN index on the vector the PostgreSQL backend searches (search.pg_backend).

The backend tests ``title || body`` of ``wagtailsearch_indexentry`` (a query's words may be
split between a title and a body); the stock indexes cover each column alone, so without
this one every search read every entry of a type. On SQLite (the Whoosh set-up) nothing
happens.
"""

from django.db import migrations

INDEX = "search_indexentry_title_body_gin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON wagtailsearch_indexentry"
        " USING gin ((title || body))"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("site_search", "0001_initial"),
        ("wagtailsearch", "0010_add_text_fields"),
    ]

    operations = [migrations.RunPython(create, drop)]
