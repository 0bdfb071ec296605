"""预算审议意见: who may read and enter them, filters, links into /budget/, search, demo data."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from modelsearch.backends import get_search_backend

from budget.classification import load_subjects
from budget.models import Department, Subject
from cms.usage.models import UsageAction, UsageRecord
from search.registry import run_search
from suggestions.opinions.choices import HandlingStatus, ReviewStage
from suggestions.opinions.demo import load_demo
from suggestions.opinions.models import ReviewOpinion
from tests.budget.subjects import store_subjects

pytestmark = pytest.mark.django_db


@pytest.fixture
def opinions(db):
    # the subjects as stored by load_subjects, without Wagtail's reference index entries for
    # their parent links, which no test here looks at (tests/budget/subjects.py)
    store_subjects(2025)
    store_subjects(2026)
    finance = Department.objects.create(code="006", name="县财政局")
    water = Department.objects.create(code="035", name="县水利局")
    drinking = ReviewOpinion.objects.create(
        year=2026,
        stage=ReviewStage.CONGRESS,
        title="加大农村饮水安全投入",
        text="山区乡镇季节性缺水，建议单列农村饮水巩固提升资金。",
        source_title="大会简报",
        source_issue=3,
        raised_on=datetime.date(2026, 1, 12),
        raised_by="羊街乡代表团",
    )
    drinking.departments.set([water])
    drinking.subjects.set(Subject.objects.filter(year=2026, code__in=["213", "21303"]))
    reserve = ReviewOpinion.objects.create(
        year=2025,
        stage=ReviewStage.PRE_REVIEW,
        title="预备费比例偏低",
        text="预备费占支出比例低于法定下限。",
        source_title="预审意见",
        raised_by="县人大常委会预算工委",
        handling_status=HandlingStatus.ADOPTED,
        response="已调整至百分之一点二。",
    )
    reserve.departments.set([finance])
    return {"drinking": drinking, "reserve": reserve, "finance": finance, "water": water}


def test_deputy_reads_list_and_detail(client, deputy_user, opinions):
    client.force_login(deputy_user)
    response = client.get(reverse("review_opinions:list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "加大农村饮水安全投入" in body and "预备费比例偏低" in body
    assert "大会简报第3期" in body
    detail = client.get(opinions["drinking"].get_absolute_url()).content.decode()
    assert "山区乡镇季节性缺水" in detail
    assert "尚未反馈" in detail


@pytest.mark.parametrize("fixture", ["liaison_user"])
def test_roles_without_query_permission_are_refused(client, request, fixture, opinions):
    user = request.getfixturevalue(fixture)
    client.force_login(user)
    assert client.get(reverse("review_opinions:list")).status_code == 403
    assert client.get(opinions["drinking"].get_absolute_url()).status_code == 403
    assert UsageRecord.objects.filter(user=user, action=UsageAction.DENIED).count() == 2


def test_anonymous_is_sent_to_login(client, opinions):
    response = client.get(reverse("review_opinions:list"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_filters_by_year_stage_department_code_and_words(client, staff_user, opinions):
    client.force_login(staff_user)
    url = reverse("review_opinions:list")

    def titles(**params):
        response = client.get(url, params)
        assert response.status_code == 200
        return {o.title for o in response.context["page"]}

    assert titles(year=2026) == {"加大农村饮水安全投入"}
    assert titles(stage=ReviewStage.PRE_REVIEW) == {"预备费比例偏低"}
    assert titles(department=opinions["finance"].pk) == {"预备费比例偏低"}
    assert titles(code="213") == {"加大农村饮水安全投入"}
    assert titles(q="预备费") == {"预备费比例偏低"}
    assert titles(year=2026, stage=ReviewStage.PRE_REVIEW) == set()


def test_bad_filter_is_refused_with_a_chinese_message(client, staff_user, opinions):
    client.force_login(staff_user)
    response = client.get(reverse("review_opinions:list"), {"code": "21x"})
    assert response.status_code == 400
    assert "科目编码应为 3 至 9 位数字" in response.content.decode()
    response = client.get(reverse("review_opinions:list"), {"stage": "nonsense"})
    assert response.status_code == 400


def test_detail_links_to_budget_views(client, deputy_user, opinions):
    client.force_login(deputy_user)
    response = client.get(opinions["drinking"].get_absolute_url())
    links = {link.url for link in response.context["budget_links"]}
    # 213 is a 类: its row is on the top-level table; its children one level down
    assert "/budget/execution/?year=2026&kind=function" in links
    assert "/budget/execution/?year=2026&kind=function&parent=213" in links
    # 21303 (水利) sits under 213
    assert "/budget/execution/?year=2026&kind=function&parent=213" in links
    assert any(
        url.startswith("/budget/execution/?") and f"department={opinions['water'].pk}" in url
        for url in links
    )
    # and the links work for the same user
    for url in links:
        assert client.get(url).status_code == 200


def test_model_rules():
    opinion = ReviewOpinion(
        year=2026, stage=ReviewStage.CONGRESS, title="t", text="x", raised_by="某代表团",
        source_issue=2,
    )  # fmt: skip
    with pytest.raises(ValidationError) as error:
        opinion.full_clean()
    assert "出处" in str(error.value)
    opinion.source_title = "大会简报"
    opinion.handling_status = HandlingStatus.ADOPTED
    with pytest.raises(ValidationError) as error:
        opinion.full_clean()
    assert "反馈" in str(error.value)
    opinion.response = "已采纳"
    opinion.full_clean()
    assert opinion.source_label == "大会简报第2期"


def test_site_search_finds_opinions_for_readers_only(
    opinions, deputy_user, liaison_user, django_capture_on_commit_callbacks
):
    backend = get_search_backend()
    backend.reset_indexes()
    with django_capture_on_commit_callbacks(execute=True):
        for opinion in ReviewOpinion.objects.all():
            opinion.save()  # indexed after commit, like any edit
    backend.refresh_indexes()
    outcome = run_search(deputy_user, "农村饮水")
    found = [hit.obj for hit in outcome.hits if isinstance(hit.obj, ReviewOpinion)]
    assert found == [opinions["drinking"]]
    assert found and outcome.hits[0].url == opinions["drinking"].get_absolute_url()
    outcome = run_search(liaison_user, "农村饮水")
    assert not [hit for hit in outcome.hits if isinstance(hit.obj, ReviewOpinion)]


def test_staff_enter_opinions_in_the_admin(client, staff_user, deputy_user, opinions):
    client.force_login(staff_user)
    add_url = reverse("wagtailsnippets_review_opinions_reviewopinion:add")
    assert (
        client.get(reverse("wagtailsnippets_review_opinions_reviewopinion:list")).status_code == 200
    )
    response = client.post(
        add_url,
        {
            "year": 2026,
            "stage": ReviewStage.FIRST_REVIEW,
            "title": "债务还本付息应足额安排",
            "text": "还本付息高峰临近。",
            "source_title": "初审意见",
            "source_issue": "",
            "raised_on": "2026-01-08",
            "raised_by_kind": "committee",
            "raised_by": "县人大财经委",
            "subjects": [],
            "departments": [opinions["finance"].pk],
            "handling_status": HandlingStatus.PENDING,
            "response": "",
            "responded_on": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = ReviewOpinion.objects.get(title="债务还本付息应足额安排")
    assert created.created_by == staff_user
    assert list(created.departments.all()) == [opinions["finance"]]
    client.force_login(deputy_user)
    response = client.get(add_url)
    assert response.status_code in (302, 403)
    assert not ReviewOpinion.objects.filter(title="x").exists()


def test_demo_data_is_idempotent_and_linked(db):
    today = datetime.date(2026, 11, 20)
    load_subjects(2025)
    load_subjects(2026)
    for code, name in [("006", "县财政局"), ("020", "县教育体育局"), ("035", "县水利局")]:
        Department.objects.create(code=code, name=name)
    created = load_demo(today=today)
    assert 28 <= created <= 32
    assert load_demo(today=today) == 0
    assert set(ReviewOpinion.objects.values_list("year", flat=True)) == {2025, 2026}
    assert set(ReviewOpinion.objects.values_list("stage", flat=True)) == set(ReviewStage.values)
    assert (
        ReviewOpinion.objects.filter(source_title="大会简报", source_issue__isnull=False).count()
        >= 8
    )
    assert ReviewOpinion.objects.filter(subjects__isnull=False).distinct().count() >= 20
    assert ReviewOpinion.objects.filter(departments__code="006").exists()
    assert not ReviewOpinion.objects.filter(raised_on__gt=today).exists()


def test_list_follows_the_order_of_the_review(client, staff_user, opinions):
    for stage in (ReviewStage.STANDING_COMMITTEE, ReviewStage.RESEARCH, ReviewStage.FIRST_REVIEW):
        ReviewOpinion.objects.create(
            year=2026, stage=stage, title=f"阶段{stage}", text="x", raised_by="县人大财经委"
        )
    client.force_login(staff_user)
    response = client.get(reverse("review_opinions:list"), {"year": 2026})
    stages = [o.stage for o in response.context["page"]]
    assert stages == ["research", "first_review", "standing", "congress"]
