"""类似建议 while writing and likely duplicates in the review queue (through the search engine)."""

import datetime

import pytest
from django.urls import reverse
from modelsearch.backends import get_search_backend

from cms import roles
from suggestions import services
from suggestions.models import Deputy, Session, Suggestion
from suggestions.similar import likely_duplicates, similar_cases

from .conftest import TODAY

WATER = "城关镇老旧供水管网漏损严重，夏季经常停水，建议水务部门分年实施供水管网改造。"
ROAD = "曼来镇通村公路路面破损，雨季塌方频繁，建议交通部门安排资金修缮县乡道路。"


@pytest.fixture
def member(make_user, term):
    user = make_user(roles.DEPUTY_MEMBER, username="member_x")
    deputy = Deputy.objects.create(name="杨光", delegation="城关镇代表团", user=user)
    deputy.terms.add(term)
    return user


@pytest.fixture
def history(django_capture_on_commit_callbacks, make_suggestion, staff, units, answer_b, deputies):
    """An earlier public answered water suggestion, a private one of another deputy, a road one."""
    backend = get_search_backend()
    backend.reset_indexes()
    with django_capture_on_commit_callbacks(execute=True):
        public = make_suggestion(
            title="关于改造城关镇供水管网的建议", content=WATER, is_public=True
        )
        private = make_suggestion(
            title="关于城关镇供水管网漏损的建议", content=WATER, lead=deputies["b"]
        )
        road = make_suggestion(title="关于修缮通村公路的建议", content=ROAD, is_public=True)
        with services.as_of(TODAY):
            services.register(public, staff)
            services.assign(public, staff, lead_unit=units["water"])
        with services.as_of(TODAY + datetime.timedelta(days=30)):
            services.answer(
                public, staff, answer_class=answer_b, signed_by="局长", summary="分年改造"
            )
    backend.refresh_indexes()
    return {"public": public, "private": private, "road": road}


def test_deputy_sees_similar_public_cases_with_answer_and_unit_not_private_ones(
    client, member, history
):
    terms, cases = similar_cases(member, "关于供水管网改造的建议", WATER)
    assert "供水" in "".join(terms)
    found = [c.suggestion.pk for c in cases]
    assert history["public"].pk in found
    assert history["private"].pk not in found  # another deputy's, not public
    top = cases[0]
    assert top.suggestion.pk == history["public"].pk
    assert top.unit == "县水利局" and top.answer_class.startswith("B")
    client.force_login(member)
    page = client.get(
        reverse("suggestions:similar"), {"title": "供水管网改造", "content": WATER}
    ).content.decode()
    assert "关于改造城关镇供水管网的建议" in page and "县水利局" in page
    assert "关于城关镇供水管网漏损的建议" not in page


def test_similar_endpoint_refuses_liaisons(client, finance_liaison, history):
    client.force_login(finance_liaison)
    assert client.get(reverse("suggestions:similar"), {"content": WATER}).status_code == 403


def test_staff_see_likely_duplicates_in_the_review_queue(
    client, django_capture_on_commit_callbacks, member, history, staff, session, category
):
    with django_capture_on_commit_callbacks(execute=True):
        with services.as_of(TODAY):
            s = services.create_draft(
                member, session=session, title="关于城关镇供水管网改造的建议", content=WATER,
                category=category,
            )  # fmt: skip
            services.deputy_submit(s, member)
            other_session = Session.objects.create(term=session.term, number=6)
            road = services.create_draft(
                member, session=other_session, title="关于修缮公路的建议", content=ROAD,
                category=category,
            )  # fmt: skip
            services.deputy_submit(road, member)
    get_search_backend().refresh_indexes()
    dups = likely_duplicates(staff, s)
    assert {c.suggestion.pk for c in dups} >= {history["public"].pk, history["private"].pk}
    assert all(c.overlap >= 0.5 for c in dups)
    client.force_login(staff)
    page = client.get(reverse("suggestions:review")).content.decode()
    assert "关于城关镇供水管网改造的建议" in page and "关于改造城关镇供水管网的建议" in page
    detail = client.get(reverse("suggestions:detail", args=[s.pk])).content.decode()
    assert "可能重复的建议" in detail
    client.force_login(member)
    assert client.get(reverse("suggestions:review")).status_code == 403
    assert Suggestion.objects.filter(status="submitted").count() == 4


def test_suggested_units_at_assignment_with_why(
    client, django_capture_on_commit_callbacks, history, staff, make_suggestion, units, member
):
    from suggestions.assignment import suggest_for

    with django_capture_on_commit_callbacks(execute=True):
        s = make_suggestion(title="关于城关镇供水管网漏损改造的建议", content=WATER)
        with services.as_of(TODAY):
            services.register(s, staff)
    get_search_backend().refresh_indexes()
    suggestions = suggest_for(staff, s)
    # only the public water suggestion was ever assigned: it is the one example
    assert [u.unit.name for u in suggestions] == ["县水利局"]
    assert suggestions[0].examples[0][0].pk == history["public"].pk
    assert "供水" in "".join(suggestions[0].keywords)
    client.force_login(staff)
    page = client.get(reverse("suggestions:detail", args=[s.pk])).content.decode()
    assert "建议的主办单位" in page and history["public"].code in page
    # a deputy never gets the panel (no 交办 step)
    assert not services.can_view(member, s)


def test_suggested_units_meet_related_words_not_only_identical_ones(
    django_capture_on_commit_callbacks, staff, make_suggestion, units
):
    """卫生院 and 卫生室 are different words to the segmenter; a past 卫生室 suggestion handled
    by a unit is still a neighbour of a new 卫生院 one (past suggestions are short)."""
    from suggestions.assignment import suggest_units

    get_search_backend().reset_indexes()
    with django_capture_on_commit_callbacks(execute=True):
        past = make_suggestion(
            title="关于加强村卫生室建设的建议",
            content="部分村卫生室房屋破旧，村医待遇低、后继无人，建议改善用房并提高村医补助。",
            is_public=True,
        )
        road = make_suggestion(title="关于修缮通村公路的建议", content=ROAD, is_public=True)
        with services.as_of(TODAY):
            for s, unit in ((past, units["finance"]), (road, units["transport"])):
                services.register(s, staff)
                services.assign(s, staff, lead_unit=unit)
    get_search_backend().refresh_indexes()
    got = suggest_units(
        staff,
        "关于提升乡镇卫生院服务能力的建议",
        "乡镇卫生院缺少影像设备和专业医生，群众小病也要跑县城，建议配备设备并培养人才。",
    )
    assert [u.unit.name for u in got] == ["县财政局"]
    assert got[0].examples[0][0].pk == past.pk


def test_likely_duplicates_are_reused_until_a_suggestion_changes_in_the_index(
    django_capture_on_commit_callbacks, history, staff, make_suggestion, monkeypatch
):
    """The office opens a submitted suggestion again and again: its duplicates are looked up
    once while no suggestion changes in the index, and what staff may no longer see drops
    out of a reused list at once."""
    from search import registry, result_cache

    result_cache.results.clear()
    with django_capture_on_commit_callbacks(execute=True):
        s = make_suggestion(title="关于城关镇供水管网改造的建议", content=WATER)
    get_search_backend().refresh_indexes()
    first = {c.suggestion.pk for c in likely_duplicates(staff, s)}
    assert first >= {history["public"].pk, history["private"].pk}

    asked = []
    search_type = registry._search_type
    monkeypatch.setattr(
        registry, "_search_type", lambda *a, **k: asked.append(a[0].key) or search_type(*a, **k)
    )
    assert {c.suggestion.pk for c in likely_duplicates(staff, s)} == first
    assert asked == []  # reused

    # made a draft again behind the index's back: staff may not see it, it drops out
    Suggestion.objects.filter(pk=history["private"].pk).update(status="draft")
    assert {c.suggestion.pk for c in likely_duplicates(staff, s)} == first - {history["private"].pk}
    assert asked == []

    with django_capture_on_commit_callbacks(execute=True):  # a new suggestion in the index
        newer = make_suggestion(title="关于城关镇供水管网漏损改造的建议", content=WATER)
    get_search_backend().refresh_indexes()
    again = {c.suggestion.pk for c in likely_duplicates(staff, s)}
    assert asked == ["suggestions.suggestion"] and newer.pk in again
    result_cache.results.clear()
