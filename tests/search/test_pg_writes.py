"""What the PostgreSQL backend writes for each object (SEARCH_BACKEND=postgres).

``add_items`` reads an object's search fields once and sends the rows of a batch as arrays,
one statement per arrangement of parts (objects whose empty fields differ have different
parts). These tests build every expected vector independently, from the raw field values,
and compare row by row, so a text given to the wrong row, part or weight is seen.

Runs only on a PostgreSQL test database (DATABASE_URL=postgres://…), skipped otherwise."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from modelsearch.backends.database.postgres.postgres import IndexEntry
from modelsearch.backends.database.postgres.weights import get_weight

from search.pg_backend import normalise, segment
from tests.search.testapp.models import Document

pytestmark = pytest.mark.django_db


@pytest.fixture
def pg(pg_backend):
    return pg_backend


def vector(parts):
    """The tsvector of (raw text, boost) parts, each segmented and weighted on its own."""
    parts = [(text.strip(), boost) for text, boost in parts if text.strip()]
    if not parts:
        return ""
    sql = " || ".join("setweight(to_tsvector('simple', %s), %s)" for _ in parts)
    params = []
    for text, boost in parts:
        params += [segment(text), get_weight(boost)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({sql})::text", params)
        return cursor.fetchone()[0]


def stored(pk):
    entry = IndexEntry.objects.get(
        content_type=ContentType.objects.get_for_model(Document), object_id=str(pk)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT title::text, autocomplete::text, body::text FROM "
            f"{IndexEntry._meta.db_table} WHERE id = %s",
            [entry.pk],
        )
        title, autocomplete, body = cursor.fetchone()
    return entry, title, autocomplete, body


def test_each_row_gets_its_own_texts_weights_and_plain_text(pg):
    documents = [
        # doc_number empty: one part fewer in the body and in the autocomplete column
        Document.objects.create(title="政府债务管理办法", body="地方政府债务实行限额管理。"),
        Document.objects.create(
            title="预算审查监督条例",
            doc_number="元人发〔2021〕3号",
            body="县级人大常委会审查预算调整方案。",
        ),
        Document.objects.create(title="国有资产报告制度", body=""),
        Document.objects.create(
            title="ＡＢＣ 全角 Title", doc_number="财预〔2020〕88号", body="  前后空白  "
        ),
    ]
    index = pg.get_index_for_model(Document)
    # Written twice: the second write of the same rows goes through ON CONFLICT.
    index.add_items(Document, documents)
    index.add_items(Document, list(reversed(documents)))
    assert IndexEntry.objects.count() == len(documents)
    for doc in documents:
        entry, title, autocomplete, body = stored(doc.pk)
        assert title == vector([(doc.title, 3)])
        assert body == vector([(doc.doc_number, 2), (doc.body, None)])
        # autocomplete fields carry modelsearch's base weight D whatever their boost
        assert autocomplete == vector([(doc.title, 0), (doc.doc_number, 0)])
        assert entry.title_text == normalise(doc.title.strip())
        assert entry.body_text == normalise(
            " ".join(t.strip() for t in (doc.doc_number, doc.body) if t.strip())
        )


def test_a_search_finds_each_document_by_its_own_words_only(pg):
    first = Document.objects.create(title="政府债务管理办法", body="限额管理。")
    second = Document.objects.create(title="国有资产报告", doc_number="元人发〔2021〕3号", body="")
    pg.get_index_for_model(Document).add_items(Document, [first, second])
    assert [d.pk for d in pg.search("政府债务", Document)] == [first.pk]
    assert [d.pk for d in pg.search("元人发〔2021〕3号", Document)] == [second.pk]
