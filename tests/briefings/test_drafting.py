from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from briefings.drafting import budget_summary, create_draft, execution_sentence
from briefings.models import MaterialType
from cms import roles
from supervision.choices import AlertGrade
from supervision.models import Alert, AlertRule

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")


def pct(numerator, denominator):
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(CENT, ROUND_HALF_UP)


def test_sentence_for_the_general_budget_is_computed(figures):
    # imported in conftest (万元): 201 adjusted 1200, cumulative 780; 205 initial 3000
    # (no adjustment), cumulative 2100; prior year 700 + 2100
    cumulative, base, prior = 780 + 2100, 1200 + 3000, 700 + 2100
    rate = pct(cumulative, base)
    gap = Decimal("75.00") - rate
    yoy = pct(cumulative - prior, prior)
    expected = (
        f"1—9月，一般公共预算支出累计完成{cumulative:,.2f}万元，占调整预算的{rate}%，"
        f"低于序时进度{gap}个百分点；同比增长{yoy}%。"
    )
    assert execution_sentence(budget_summary(2026, 9, "general")) == expected
    assert "68.57%" in expected and "6.43个百分点" in expected  # the figures, by hand


def test_sentence_for_fund_and_missing_budgets(figures):
    assert execution_sentence(budget_summary(2026, 9, "fund")) == (
        "1—9月，政府性基金预算支出累计完成300.00万元，占调整预算的60.00%，低于序时进度15.00个百分点。"
    )
    assert execution_sentence(budget_summary(2026, 9, "social")) == (
        "1—9月，社会保险基金预算支出暂无执行数据。"
    )


def test_draft_has_tables_figures_and_alerts(figures, staff_user, quarterly):
    rule = AlertRule.objects.create(
        name="进度落后", kind="execution_lag", scope="category", threshold=5, grade="general"
    )
    Alert.objects.create(
        rule=rule, key="201", year=2026, month=8, budget="general", code="201",
        title="一般公共服务支出进度落后于序时进度", grade=AlertGrade.GENERAL,
    )  # fmt: skip
    Alert.objects.create(
        rule=rule, key="205", year=2026, month=5, budget="general", code="205",
        title="上季度的预警", grade=AlertGrade.GENERAL,
    )  # fmt: skip
    page, created = create_draft(staff_user, quarterly, 2026, 3)
    assert created and not page.live and page.title == "2026年第三季度预算执行情况"
    kinds = [b.block_type for b in page.body]
    assert kinds.count("table") == 3  # general, fund, alerts
    tables = [b.value for b in page.body if b.block_type == "table"]
    general = tables[0]
    assert general["title"] == "2026年1—9月一般公共预算支出执行情况"
    rows = general["rows"].splitlines()
    assert rows[0].startswith("201 | 一般公共服务支出 | 1,200.00 | 780.00 | 65.00% | 75.00%")
    assert rows[-1].startswith(" | 合计 | 4,200.00 | 2,880.00 | 68.57%")
    figures_ = [b.value for b in page.body if b.block_type == "figure"]
    assert {f["code"] for f in figures_} == {"205", "201"}
    assert all(f["mode"] == "frozen" and f["month"] == 9 for f in figures_)
    alert_table = tables[-1]
    assert "一般公共服务支出进度落后于序时进度" in alert_table["rows"]
    assert "上季度的预警" not in alert_table["rows"]  # raised in Q2, not in Q3
    text = " ".join(str(b.value) for b in page.body if b.block_type == "paragraph")
    assert "7—9月共产生监督预警1条（一般1条）" in text
    # defaults of the type's distribution list are copied
    assert page.recipient_groups.count() == quarterly.default_recipient_groups.count() > 0
    # one click twice opens the same draft
    again, created_again = create_draft(staff_user, quarterly, 2026, 3)
    assert again.pk == page.pk and not created_again


def test_draft_is_refused_without_data_or_for_others(figures, quarterly, deputy_user, staff_user):
    with pytest.raises(PermissionDenied):
        create_draft(deputy_user, quarterly, 2026, 3)
    with pytest.raises(ValidationError, match="尚无预算执行数据"):
        create_draft(staff_user, quarterly, 2024, 3)
    pushed = MaterialType.objects.get(code="finance-quarterly-analysis")
    with pytest.raises(ValidationError):
        create_draft(staff_user, pushed, 2026, 3)


def test_draft_view_one_click(client, figures, quarterly, make_user):
    staff = make_user(roles.STAFF, username="clicker")
    client.force_login(staff)
    response = client.get("/briefings/draft/?type=quarterly-briefing&year=2026&period=3")
    assert response.status_code == 200 and "生成初稿" in response.content.decode()
    response = client.post(
        "/briefings/draft/", {"type": "quarterly-briefing", "year": 2026, "period": 3}
    )
    assert response.status_code == 302 and "/admin/pages/" in response["Location"]


def test_draft_view_refuses_deputy(client, deputy_user, figures):
    client.force_login(deputy_user)
    response = client.post(
        "/briefings/draft/", {"type": "quarterly-briefing", "year": 2026, "period": 3}
    )
    assert response.status_code == 403


def test_search_snippet_reads_the_indexed_text_not_the_figures(
    figures, staff_user, quarterly, monkeypatch
):
    """A briefing's snippet in the site search comes from the text its blocks give the
    index; its figure blocks are not rendered for it (each works out a budget figure)."""
    import budget.figures
    from search.registry import _indexed_text

    page, _created = create_draft(staff_user, quarterly, 2026, 3)
    assert any(b.block_type == "figure" for b in page.body)

    def refuse(*args, **kwargs):
        raise AssertionError("a snippet rendered a figure block")

    monkeypatch.setattr(budget.figures, "render_figure", refuse)
    text = _indexed_text(page)
    paragraphs = [b.value for b in page.body if b.block_type == "paragraph"]
    assert "7—9月" in text
    assert all("<" not in line for line in text.splitlines())  # no markup
    assert paragraphs and "监督预警" in text
