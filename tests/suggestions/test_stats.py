"""Statistics of 代表建议: the rates on a known set of suggestions, unit ranking, overdue,
the page for each role (aggregates only, no personal details), charts and exports."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cms.usage.models import ExportRegistration
from suggestions import services, statistics
from suggestions.choices import EvaluationResult
from suggestions.models import Suggestion

from .conftest import TODAY

pytestmark = pytest.mark.django_db

LATER = datetime.date(2026, 8, 1)  # the statistics' "today": first due dates have passed


def _answer(s, user, answer_class, on):
    with services.as_of(on):
        services.start_handling(s, user)
        services.answer(s, user, answer_class=answer_class, signed_by="张局长", answered_on=on,
                        summary="已列入计划并组织实施。")  # fmt: skip
    s.refresh_from_db()


def _evaluate(s, user, result, on, comment=""):
    with services.as_of(on):
        services.evaluate(s, user, result=result, comment=comment, on=on)
    s.refresh_from_db()


@pytest.fixture
def handled(make_suggestion, staff, units, answer_a, answer_b, term, session, category):
    """Five suggestions: on time + 满意; late + 基本满意; 不满意 then re-answered + 满意;
    assigned and overdue; registered only."""
    made = {}
    for key, unit in (("on_time", "finance"), ("late", "finance"), ("again", "water"),
                      ("overdue", "water"), ("waiting", None)):  # fmt: skip
        s = make_suggestion(title=f"关于{key}的建议")
        with services.as_of(TODAY):
            services.register(s, staff)
            if unit:
                services.assign(s, staff, lead_unit=units[unit])
        s.refresh_from_db()
        made[key] = s
    _answer(made["on_time"], staff, answer_a, datetime.date(2026, 4, 1))
    _evaluate(made["on_time"], staff, EvaluationResult.SATISFIED, datetime.date(2026, 4, 10))
    _answer(made["late"], staff, answer_b, datetime.date(2026, 7, 1))  # due 2026-06-02
    _evaluate(made["late"], staff, EvaluationResult.BASICALLY, datetime.date(2026, 7, 5))
    _answer(made["again"], staff, answer_b, datetime.date(2026, 5, 1))
    _evaluate(
        made["again"], staff, EvaluationResult.DISSATISFIED, datetime.date(2026, 5, 5), "未解决"
    )
    with services.as_of(datetime.date(2026, 5, 6)):
        services.rehandle(made["again"], staff)
    with services.as_of(datetime.date(2026, 6, 20)):
        services.second_answer(
            made["again"], staff, answer_class=answer_a, signed_by="李局长", summary="已解决。"
        )
    _evaluate(made["again"], staff, EvaluationResult.SATISFIED, datetime.date(2026, 6, 25))
    return made


def test_rates_on_a_known_set(handled, term):
    queryset = statistics.in_scope(Suggestion.objects.all(), term=term)
    m = statistics.measures(queryset, LATER)
    assert (m.total, m.assigned, m.answered, m.on_time) == (5, 4, 3, 2)
    assert m.answer_rate == Decimal("75.0")  # 3 ÷ 4
    assert m.on_time_rate == Decimal("66.7")  # 2 ÷ 3
    # latest verdicts: 满意, 基本满意, 满意 (the 不满意 was replaced after re-handling)
    assert (m.evaluated, m.satisfied, m.basically, m.dissatisfied) == (3, 2, 1, 0)
    assert m.satisfaction_rate == Decimal("100.0")
    assert m.fully_satisfied_rate == Decimal("66.7")
    assert m.overdue == 1


def test_empty_period_has_no_rates(term):
    m = statistics.measures(Suggestion.objects.none(), LATER)
    assert m.answer_rate is None and m.satisfaction_rate is None
    assert statistics.format_rate(m.answer_rate) == "—"


def test_year_scope_and_converted_motions(handled, term):
    assert statistics.in_scope(Suggestion.objects.all(), year=2026).count() == 5
    assert statistics.in_scope(Suggestion.objects.all(), year=2025).count() == 0


def test_units_ranked_and_overdue_listed(handled, term, units):
    stats = statistics.compute(statistics.in_scope(Suggestion.objects.all(), term=term), LATER)
    ranking = [(u.rank, u.name, u.measures.assigned, u.measures.answer_rate) for u in stats.units]
    assert ranking == [
        (1, "县财政局", 2, Decimal("100.0")),
        (2, "县水利局", 2, Decimal("50.0")),
    ]
    finance = stats.units[0].measures
    assert finance.on_time_rate == Decimal("50.0")
    assert [r.title for r in stats.overdue] == ["关于overdue的建议"]
    assert stats.overdue[0].days_late == (LATER - handled["overdue"].due_on).days
    by_status = {r.label: r.count for r in stats.by_status}
    assert by_status == {"已登记": 1, "已交办": 1, "已评价": 3}
    assert [(r.label, r.count) for r in stats.by_category] == [("城建环资", 5)]


def _page(client, user, **params):
    client.force_login(user)
    return client.get(reverse("suggestion_insights:stats"), params)


def test_staff_page_shows_rates_charts_tables_and_overdue_titles(client, staff, handled, term):
    response = _page(client, staff, term=term.pk)
    assert response.status_code == 200
    html = response.content.decode()
    assert "75.0%" in html and "66.7%" in html and "100.0%" in html
    assert html.count("<svg") >= 3
    assert "已答复 3 ÷ 已交办 4" in html
    assert "关于overdue的建议" in html  # the office's list of late items


def test_deputy_sees_aggregates_but_no_titles_or_personal_details(client, deputies, handled, term):
    response = _page(client, deputies["user_b"], term=term.pk)
    assert response.status_code == 200
    html = response.content.decode()
    assert "75.0%" in html
    assert "关于overdue的建议" not in html
    for secret in ("王秀兰", "13912345678", "530000197001011234", "秘密单位", "红河路"):
        assert secret not in html


def test_liaison_and_anonymous_are_refused(client, finance_liaison, handled):
    assert _page(client, finance_liaison).status_code == 403
    client.logout()
    response = client.get(reverse("suggestion_insights:stats"))
    assert response.status_code == 302


def test_bad_period_is_a_400_with_a_message(client, staff, handled):
    response = _page(client, staff, year="abc")
    assert response.status_code == 400
    assert "提出年度" in response.content.decode()


def test_page_follows_a_new_answer(client, staff, handled, answer_a, term):
    before = _page(client, staff, term=term.pk).context["stats"].overall
    _answer(handled["overdue"], staff, answer_a, datetime.date(2026, 7, 20))
    after = _page(client, staff, term=term.pk).context["stats"].overall
    assert (before.answered, after.answered) == (3, 4)
    assert after.answer_rate == Decimal("100.0")


def test_staff_export_is_registered(client, staff, handled, term):
    client.force_login(staff)
    url = reverse("suggestion_insights:stats_export")
    response = client.get(url, {"term": term.pk, "table": "units"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("排名", "单位编码", "主办单位")
    assert rows[1][2] == "县财政局" and rows[1][5] == "100.0%"
    registration = ExportRegistration.objects.get()
    assert "承办单位排名" in registration.description


def test_deputy_export_asks_purpose_and_may_not_export_overdue(client, deputies, handled, term):
    client.force_login(deputies["user_b"])
    url = reverse("suggestion_insights:stats_export")
    response = client.get(url, {"term": term.pk, "table": "category"})
    assert response.status_code == 200 and "用途" in response.content.decode()
    response = client.post(
        f"{url}?term={term.pk}&table=category", {"purpose": "准备代表小组活动发言"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert ExportRegistration.objects.get().purpose == "准备代表小组活动发言"
    response = client.get(url, {"term": term.pk, "table": "overdue"})
    assert response.status_code == 403
    assert ExportRegistration.objects.count() == 1


def test_liaison_may_not_export(client, finance_liaison, handled):
    client.force_login(finance_liaison)
    response = client.get(reverse("suggestion_insights:stats_export"), {"table": "units"})
    assert response.status_code == 403
