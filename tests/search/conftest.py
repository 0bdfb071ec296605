"""Fixtures for the shared search backend tests.

Every test that asks for ``search_backend`` runs once per backend:

* ``whoosh`` — the embedded Whoosh + jieba backend (``search.backend``), index in a tmp dir;
* ``postgres_jieba`` — PostgreSQL full text on jieba-segmented text (``search.pg_backend``),
  only when the test database is PostgreSQL (DATABASE_URL=postgres://…).
"""

import pytest
from django.db import connection
from modelsearch.backends import get_search_backend

from tests.search.testapp.models import Document, EffectLevel, Note, Status

BACKEND_NAMES = ["whoosh", "postgres_jieba"]


def backend_settings(name, tmp_path):
    if name == "whoosh":
        return {"BACKEND": "search.backend", "PATH": str(tmp_path / "whoosh-index")}
    if name == "postgres_jieba":
        if connection.vendor != "postgresql":
            pytest.skip(
                "postgres_jieba needs a PostgreSQL test database "
                "(run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)"
            )
        return {"BACKEND": "search.pg_backend"}
    raise ValueError(name)


@pytest.fixture(params=BACKEND_NAMES)
def search_backend(request, db, settings, tmp_path):
    """The backend under test, configured as the default WAGTAILSEARCH_BACKENDS entry."""
    settings.WAGTAILSEARCH_BACKENDS = {"default": backend_settings(request.param, tmp_path)}
    backend = get_search_backend()
    backend.reset_indexes()
    backend.refresh_indexes()
    backend.test_name = request.param
    return backend


@pytest.fixture
def pg_backend(settings, tmp_path):
    """The PostgreSQL backend as the default backend, its index emptied (PostgreSQL test
    databases only: skipped otherwise)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs a PostgreSQL test database")
    settings.WAGTAILSEARCH_BACKENDS = {"default": backend_settings("postgres_jieba", tmp_path)}
    backend = get_search_backend()
    backend.reset_indexes()
    return backend


DOCUMENTS = {
    "knowledge": dict(
        title="知识管理制度",
        body="为加强机关文档资料的积累和利用，制定本制度。",
        issuer="县人大常委会办公室",
        year=2019,
        effect_level=EffectLevel.INTERNAL,
    ),
    "compilation": dict(
        title="预算审查监督制度汇编",
        body="本书收录预算审查监督工作常用的规定。",
        issuer="县人大常委会办公室",
        year=2021,
        effect_level=EffectLevel.INTERNAL,
    ),
    "reception": dict(
        title="机关公务接待费管理办法",
        body="公务接待应当坚持有利公务、简化礼仪、务实节俭的原则。",
        doc_number="元人办发〔2019〕13号",
        issuer="县人民政府办公室",
        year=2019,
        effect_level=EffectLevel.NORMATIVE,
    ),
    "congress": dict(
        title="议事规则",
        body="县人民代表大会每年至少举行一次会议，审查和批准本级预算。",
        issuer="县人大常委会办公室",
        year=2020,
        effect_level=EffectLevel.LOCAL_REGULATION,
    ),
    "tax": dict(
        title="个人所得税法实施条例",
        body="纳税人应当依法申报个人所得税。",
        issuer="国务院",
        year=2018,
        effect_level=EffectLevel.ADMIN_REGULATION,
    ),
    "fullwidth": dict(
        title="ＰＰＰ项目财政承受能力论证指引",
        body="政府和社会资本合作项目应当进行财政承受能力论证，自２０２３年起执行。",
        issuer="财政部",
        year=2023,
        effect_level=EffectLevel.DEPARTMENT_RULE,
    ),
    "performance": dict(
        title="预算绩效管理办法",
        body="全面实施预算绩效管理，提高财政资金使用效益。",
        issuer="县财政局",
        year=2022,
        effect_level=EffectLevel.NORMATIVE,
    ),
    "evaluation": dict(
        title="绩效评价结果应用规定",
        body="编制预算时应当参考绩效评价结果，评价结果较差的项目调减资金。",
        issuer="县财政局",
        year=2022,
        effect_level=EffectLevel.NORMATIVE,
    ),
    "mixed": dict(
        title="政府采购 API 接口规范 v2",
        body="采购系统的 API 接口自 2024 年起统一使用 HTTPS。",
        issuer="县财政局",
        year=2024,
        effect_level=EffectLevel.INTERNAL,
    ),
    "repealed": dict(
        title="旧预算管理办法",
        body="本办法已被新的预算管理办法取代。",
        issuer="县人民政府",
        year=2010,
        effect_level=EffectLevel.NORMATIVE,
        status=Status.REPEALED,
        published=False,
    ),
}

NOTES = {
    "note_knowledge": dict(title="知识库建设笔记", content="整理制度文件的体会。", author="张三"),
    "note_budget": dict(title="预算审查要点", content="关注三公经费和政府采购。", author="李四"),
}


@pytest.fixture
def corpus(search_backend):
    """The test documents and notes, saved and indexed in the backend under test.

    Returns a dict name → object.
    """
    objects = {}
    for key, fields in DOCUMENTS.items():
        objects[key] = Document.objects.create(**fields)
    for key, fields in NOTES.items():
        objects[key] = Note.objects.create(**fields)
    search_backend.add_bulk(Document, list(Document.objects.all()))
    search_backend.add_bulk(Note, list(Note.objects.all()))
    search_backend.refresh_indexes()
    return objects
