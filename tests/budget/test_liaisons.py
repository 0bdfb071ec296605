"""部门联络员: their own unit's figures and alerts, read-only; nothing budget-wide."""

from decimal import Decimal

import pytest
from django.urls import reverse

from budget.importing import import_file
from cms import roles
from supervision.choices import AlertGrade, RuleKind
from supervision.models import Alert, AlertRule

from .conftest import LONG_HEADER, csv_bytes

pytestmark = pytest.mark.django_db

ROWS = [
    LONG_HEADER,
    [2026, 0, "一般公共预算", "2050202", "", "201", "", "年初预算", "300"],
    [2026, 9, "一般公共预算", "2050202", "", "201", "", "累计执行", "111"],
    [2026, 0, "一般公共预算", "2050203", "", "201001", "", "年初预算", "80"],
    [2026, 9, "一般公共预算", "2050203", "", "201001", "", "累计执行", "22"],
    [2026, 0, "一般公共预算", "2010101", "", "101", "", "年初预算", "500"],
    [2026, 9, "一般公共预算", "2010101", "", "101", "", "累计执行", "333"],
]


@pytest.fixture
def unit_liaison(make_user, departments):
    user = make_user(roles.LIAISON, username="edu-liaison")
    departments["education"].liaisons.add(user)
    return user


@pytest.fixture
def figures(classification, departments):
    result = import_file(csv_bytes(ROWS), "units.csv")
    assert result.ok, result.errors


@pytest.fixture
def unit_alerts(departments):
    rule = AlertRule.objects.create(
        name="进度落后", kind=RuleKind.EXECUTION_LAG, threshold=Decimal(10)
    )

    def make(dept, title):
        return Alert.objects.create(
            rule=rule,
            key=f"dept:{dept.pk}",
            year=2026,
            month=9,
            budget="general",
            department=dept,
            title=title,
            grade=AlertGrade.GENERAL,
        )

    return {
        "own": make(departments["education"], "县教育局执行进度落后"),
        "child": make(departments["school"], "县第一中学执行进度落后"),
        "other": make(departments["finance"], "县财政局执行进度落后"),
    }


def test_liaison_sees_own_unit_execution(client, unit_liaison, figures, departments):
    client.force_login(unit_liaison)
    response = client.get(reverse("budget:execution"), {"year": 2026, "month": 9})
    assert response.status_code == 200
    html = response.content.decode()
    # 县教育局 and its 县第一中学: 111 + 22 万元; the finance bureau's 333 is not there
    assert "133.00" in html and "333.00" not in html
    assert "县教育局" in html and "全县" not in html
    # budget-wide tabs are not offered
    assert reverse("budget:final") not in html and reverse("budget:imports") not in html
    response = client.get(
        reverse("budget:execution"),
        {"year": 2026, "month": 9, "department": departments["school"].pk},
    )
    assert response.status_code == 200 and "22.00" in response.content.decode()
    assert "111.00" not in response.content.decode()


def test_liaison_department_table_lists_only_own_units(client, unit_liaison, figures, departments):
    client.force_login(unit_liaison)
    response = client.get(reverse("budget:departments"), {"year": 2026, "month": 9})
    assert response.status_code == 200
    html = response.content.decode()
    assert "县教育局" in html and "县第一中学" in html
    assert "县财政局" not in html and "333.00" not in html


def test_liaison_refused_another_unit(client, unit_liaison, figures, departments):
    client.force_login(unit_liaison)
    other = departments["finance"].pk
    for name in ("execution", "departments"):
        response = client.get(
            reverse(f"budget:{name}"), {"year": 2026, "month": 9, "department": other}
        )
        assert response.status_code == 403, name
        assert "333.00" not in response.content.decode()
    response = client.get(reverse("budget:execution"), {"department": "x"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "name", ["final", "three_public", "compare", "trend", "imports", "figure", "export"]
)
def test_liaison_refused_budget_wide_views(client, unit_liaison, figures, name):
    client.force_login(unit_liaison)
    response = client.get(reverse(f"budget:{name}"), {"year": 2026, "month": 9})
    assert response.status_code == 403


def test_liaison_refused_import_and_template(client, unit_liaison, figures):
    client.force_login(unit_liaison)
    upload = client.post(reverse("budget:imports"), {})
    assert upload.status_code == 403
    assert client.get(reverse("budget:template", args=["csv"])).status_code == 403


def test_liaison_sees_own_alerts_read_only(client, unit_liaison, unit_alerts, staff_user):
    client.force_login(unit_liaison)
    html = client.get(reverse("supervision:alerts")).content.decode()
    assert "县教育局执行进度落后" in html and "县第一中学执行进度落后" in html
    assert "县财政局执行进度落后" not in html
    own = unit_alerts["own"]
    detail = client.get(reverse("supervision:alert", args=[own.pk]))
    assert detail.status_code == 200
    assert reverse("supervision:alert_handle", args=[own.pk]) not in detail.content.decode()
    other = unit_alerts["other"]
    assert client.get(reverse("supervision:alert", args=[other.pk])).status_code == 404
    response = client.post(reverse("supervision:alert_handle", args=[own.pk]), {"to": "notified"})
    assert response.status_code == 403
    own.refresh_from_db()
    assert own.status == "new" and not own.events.exists()


def test_liaison_without_unit_is_refused(client, liaison_user, unit_alerts):
    client.force_login(liaison_user)
    for name in ("budget:execution", "budget:departments", "supervision:alerts", "budget:index"):
        assert client.get(reverse(name)).status_code == 403, name
    assert client.get(reverse("supervision:alert", args=[unit_alerts["own"].pk])).status_code == 403


def test_deputy_still_sees_everything(client, deputy_user, figures, unit_alerts):
    client.force_login(deputy_user)
    html = client.get(reverse("budget:execution"), {"year": 2026, "month": 9}).content.decode()
    assert "全县" in html and "466.00" in html  # 133 + 333 万元
    html = client.get(reverse("supervision:alerts")).content.decode()
    assert "县财政局执行进度落后" in html


def test_nav_and_home_panel_for_liaison(rf, unit_liaison, liaison_user):
    from budget.wagtail_hooks import budget_nav, unit_budget_panel

    request = rf.get("/")
    request.user = unit_liaison
    assert budget_nav(request).label == "本单位预算"
    assert unit_budget_panel(request).title == "本单位预算"
    request.user = liaison_user
    assert budget_nav(request) is None and unit_budget_panel(request) is None
