"""相关材料 of a suggestion: explicit links first, then policies found by the site search
(with the reader's permissions) and budget subjects by name, each linking to /budget/."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from modelsearch.backends import get_search_backend

from policies import ingest
from policies.models import PolicyPage
from suggestions import services
from suggestions.related import key_terms, related_material
from tests.budget.subjects import store_subjects

from .conftest import TODAY

pytestmark = pytest.mark.django_db

WATER_RULES = (
    "# 元江县农村饮水安全工程运行管理办法\n\n"
    "第一条 为加强农村饮水安全工程管理，保障农村居民饮水安全，制定本办法。\n\n"
    "第二条 农村饮水工程的维修养护经费列入县级财政预算。\n"
)
PROCUREMENT = (
    "# 元江县政府采购内部控制制度\n\n"
    "第一条 为规范政府采购行为，制定本制度。\n\n"
    "第二条 采购人应当编制政府采购预算。\n"
)


@pytest.fixture
def library(django_capture_on_commit_callbacks):
    backend = get_search_backend()
    backend.reset_indexes()
    with django_capture_on_commit_callbacks(execute=True):
        (water,) = ingest.import_path_data("water.md", WATER_RULES.encode(), publish=True)
        (procurement,) = ingest.import_path_data("buy.md", PROCUREMENT.encode(), publish=True)
    backend.refresh_indexes()
    return {
        "water": PolicyPage.objects.get(pk=water.page_id),
        "procurement": PolicyPage.objects.get(pk=procurement.page_id),
    }


@pytest.fixture
def suggestion(make_suggestion, staff, units, library):
    # the subjects as stored by load_subjects, without Wagtail's reference index entries for
    # their parent links, which no test here looks at (tests/budget/subjects.py)
    store_subjects(2026)
    s = make_suggestion(
        title="关于保障山区农村饮水安全的建议",
        content="山区村组季节性缺水，农村饮水工程老化，维修养护经费不足。",
    )
    with services.as_of(TODAY):
        services.register(s, staff)
        services.assign(s, staff, lead_unit=units["water"])
        services.add_link(s, staff, page=library["procurement"], note="维修采购须走政府采购")
        services.add_link(s, staff, subject_year=2026, subject_code="21303", note="水利")
    s.refresh_from_db()
    return s


def test_key_terms_put_title_words_first():
    terms = key_terms("关于保障山区农村饮水安全的建议", "饮水工程老化，维修经费不足。")
    assert terms[0] in {"饮水", "农村", "山区", "安全", "保障"}
    assert "饮水" in terms[:3]
    assert "建议" not in terms and "关于" not in terms


def test_policies_explicit_link_first_then_similar(suggestion, deputies, library):
    material = related_material(deputies["user_b"], suggestion)
    assert [(p.title, p.source) for p in material.policies[:1]] == [
        (library["procurement"].title, "link")
    ]
    similar = [p for p in material.policies if p.source == "similar"]
    assert library["water"].url in [p.url for p in similar]
    # listed once, even though the search also finds the linked one
    urls = [p.url for p in material.policies]
    assert len(urls) == len(set(urls))


def test_budget_lines_link_to_budget_views(client, suggestion, deputies, units):
    material = related_material(deputies["user_b"], suggestion)
    assert material.shows_budget
    first = material.budget_lines[0]
    assert first.source == "link" and first.title.startswith("21303")
    assert first.url == "/budget/execution/?year=2026&kind=function&parent=213"
    unit_links = [b for b in material.budget_lines if f"department={units['water'].pk}" in b.url]
    assert unit_links and "主办单位" in unit_links[0].note
    similar = [b for b in material.budget_lines if b.source == "similar" and b not in unit_links]
    assert similar, "subjects whose names hold a key term (农村 …) are offered"
    client.force_login(deputies["user_b"])
    for line in material.budget_lines:
        assert line.url.startswith("/budget/")
        assert client.get(line.url).status_code == 200


def test_liaison_gets_neither_policies_nor_budget_lines(suggestion, make_user, units):
    from cms import roles

    water_liaison = make_user(roles.LIAISON, username="water_liaison")
    units["water"].liaisons.add(water_liaison)
    material = related_material(water_liaison, suggestion)
    assert material.policies == []  # the policy library is for those who may query data
    assert material.budget_lines == [] and not material.shows_budget


def test_unpublished_policy_link_is_not_shown(suggestion, deputies, library):
    library["procurement"].unpublish()
    material = related_material(deputies["user_b"], suggestion)
    assert library["procurement"].title not in [p.title for p in material.policies]


def test_template_tag_renders_the_block(suggestion, deputies, library):
    request = RequestFactory().get("/")
    request.user = deputies["user_b"]
    html = Template("{% load suggestion_insights %}{% related_material suggestion %}").render(
        Context({"request": request, "suggestion": suggestion})
    )
    assert "相关材料" in html and "相关预算科目与单位" in html
    assert library["water"].title in html
    assert "工作人员关联 · 维修采购须走政府采购" in html
    assert "/budget/execution/" in html
    for secret in ("13912345678", "530000197001011234", "秘密单位", "红河路"):
        assert secret not in html


def test_similar_policies_are_kept_until_the_index_changes(
    suggestion, deputies, make_user, library, django_capture_on_commit_callbacks
):
    """Opening the page again reuses what was found (no search); a policy published after
    is found, since the index's new commit makes a new key; who may not read the library
    gets nothing from what a reader's visit kept."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cms import roles

    reader = deputies["user_b"]
    first = [p.url for p in related_material(reader, suggestion).policies]
    with CaptureQueriesContext(connection) as again:
        assert [p.url for p in related_material(reader, suggestion).policies] == first
    assert not any("policies_policyarticle" in q["sql"] for q in again.captured_queries)

    more = (
        "# 元江县农村饮水工程维修养护资金管理办法\n\n"
        "第一条 农村饮水工程维修养护资金专款专用，保障山区饮水安全。\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        (record,) = ingest.import_path_data("more.md", more.encode(), publish=True)
    get_search_backend().refresh_indexes()
    after = [p.url for p in related_material(reader, suggestion).policies]
    assert PolicyPage.objects.get(pk=record.page_id).url in after

    liaison = make_user(roles.LIAISON, username="no_library")
    assert [
        p for p in related_material(liaison, suggestion).policies if p.source == "similar"
    ] == []


def test_a_short_first_try_finds_what_the_full_one_finds(
    suggestion, deputies, library, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """The similar policies are first looked for among a few hits of each type, and again
    among 300 when the walk used up a type's short list: the answer is the same."""
    from suggestions import related

    settings.SUGGESTIONS_RELATED_POLICIES = 3
    for n in range(6):  # more statutes on the same words, so the short lists run out
        text = f"# 元江县第{n}号农村饮水安全规定\n\n第一条 农村饮水安全工程维修养护，第{n}条。\n"
        with django_capture_on_commit_callbacks(execute=True):
            ingest.import_path_data(f"w{n}.md", text.encode(), publish=True)
    get_search_backend().refresh_indexes()
    reader = deputies["user_b"]
    terms = key_terms(suggestion.title, suggestion.content)
    answers = {}
    for first in (1, 2, 300):
        monkeypatch.setattr(related, "SIMILAR_FIRST_HITS_PER_TYPE", first)
        answers[first] = [p.url for p in related._similar_policies(reader, terms, 3)]
    assert len(answers[300]) == 3
    assert answers[1] == answers[2] == answers[300]


def test_picking_says_when_a_short_list_was_used_up():
    from types import SimpleNamespace

    from suggestions.related import _pick_policies

    def hit(key, rank, score, url):
        return SimpleNamespace(
            searchable=SimpleNamespace(key=key), rank=rank, score=score,
            obj=SimpleNamespace(), title=url, url=url, type_label=key,
        )  # fmt: skip

    # two types cut at 2 hits each; the three policies wanted are found before either runs out
    hits = [hit("a", 0, 9, "/p1"), hit("b", 0, 8, "/p2"), hit("a", 1, 7, "/p3"),
            hit("b", 1, 1, "/p4")]  # fmt: skip
    items, exact = _pick_policies(hits, 2, 3, ())
    assert [i.url for i in items] == ["/p1", "/p2", "/p3"] and exact
    # a fourth is wanted: type a's list ran out on the way, its third hit could come next
    items, exact = _pick_policies(hits, 2, 4, ())
    assert not exact
    # lists shorter than the cut hold every hit there is: what was found is the answer
    items, exact = _pick_policies(hits[:3], 3, 5, ())
    assert [i.url for i in items] == ["/p1", "/p2", "/p3"] and exact
