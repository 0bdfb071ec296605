from decimal import Decimal

import pytest
from django.utils import timezone

from budget.models import Department
from supervision import alerts
from supervision.choices import AlertGrade, AlertStatus, ImportKind, RuleKind
from supervision.importing import import_file
from supervision.letters.services import create_from_alert
from supervision.models import Alert, AlertRule
from supervision.tasks import evaluate_debt_alerts

from .conftest import BONDS_HEADER, county_positions, csv_bytes

pytestmark = pytest.mark.django_db


def rule(kind, threshold, grade=AlertGrade.IMPORTANT, owner=None):
    return AlertRule.objects.create(
        name=RuleKind(kind).label,
        kind=kind,
        threshold=Decimal(threshold),
        grade=grade,
        owner=owner,
    )


@pytest.fixture
def positions():
    assert import_file(csv_bytes(county_positions()), "p.csv", ImportKind.POSITIONS).ok


def test_near_limit_alerts_per_category_with_its_figures(positions, staff_user):
    # 2026: 一般 176520.35 / 185000 = 95.42%; 专项 221000 / 230000 = 96.09%
    near = rule(RuleKind.DEBT_NEAR_LIMIT, "96", owner=staff_user)
    raised = alerts.evaluate_rule(near)
    assert [a.key for a in raised] == ["限额:special"]
    alert = raised[0]
    assert alert.year == 2026 and alert.status == AlertStatus.NEW and alert.due_date
    assert alert.figures["专项债务余额（万元）"] == "221,000.00"
    assert alert.figures["余额占限额"] == "96.09%"
    assert "接近限额" in alert.title
    assert alerts.evaluate_rule(near) == []  # not twice
    near.threshold = Decimal("95")
    near.save()
    assert [a.key for a in alerts.evaluate_rule(near)] == ["限额:general"]


def test_indicator_rules_fire_only_above_their_threshold(positions):
    ratio = rule(RuleKind.DEBT_RATIO, "300")
    assert alerts.evaluate_rule(ratio) == []  # 261.01% is under a 300% line
    ratio.threshold = Decimal("120")
    ratio.save()
    [alert] = alerts.evaluate_rule(ratio)
    assert alert.figures["债务率"] == "261.01%"
    assert alert.figures["综合财力（万元）"] == "152,300.00"
    assert alert.figures["债务余额（万元）"] == "397,520.35"
    # no repayments yet: 偿债率 0%, never above a line
    assert alerts.evaluate_rule(rule(RuleKind.DEBT_SERVICE_RATIO, "10")) == []
    assert alerts.evaluate_rule(rule(RuleKind.DEBT_INTEREST_RATIO, "0")) == []


def test_rules_without_data_raise_nothing():
    for kind in (RuleKind.DEBT_NEAR_LIMIT, RuleKind.DEBT_RATIO, RuleKind.DEBT_MATURITY_UNFUNDED):
        assert alerts.evaluate_rule(rule(kind, "1")) == []


def _bond(code, maturity, source=""):
    return [
        code,
        f"债券{code}",
        "一般债务",
        "新增债券",
        "2020-01-01",
        "1000",
        "3",
        "5",
        maturity.isoformat(),
        "",
        "项目",
        source,
    ]


def test_unfunded_maturity_within_n_months_after_import(
    staff_user, django_capture_on_commit_callbacks
):
    import datetime

    today = timezone.localdate()
    rows = [
        BONDS_HEADER,
        _bond("M1", today + datetime.timedelta(days=60)),
        _bond("M2", today + datetime.timedelta(days=60), source="土地出让收入"),
        _bond("M3", today + datetime.timedelta(days=400)),
        _bond("M4", today - datetime.timedelta(days=5)),
    ]
    maturity = rule(RuleKind.DEBT_MATURITY_UNFUNDED, "6", owner=staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        assert import_file(csv_bytes(rows), "b.csv", ImportKind.BONDS).ok
    # the import evaluated the debt rules: only M1 is due within 6 months with no source
    alert = Alert.objects.get(rule=maturity)
    assert alert.key == "到期:M1" and "尚未落实偿还资金来源" in alert.title
    assert alert.figures["待偿本金（万元）"] == "1,000.00"
    assert evaluate_debt_alerts() == 0


def test_a_debt_alert_follows_the_letter_flow(positions, staff_user):
    Department.objects.create(code="101", name="县财政局")
    near = rule(RuleKind.DEBT_NEAR_LIMIT, "90", grade=AlertGrade.IMPORTANT, owner=staff_user)
    alert = alerts.evaluate_rule(near)[0]
    letter = create_from_alert(alert, staff_user)
    assert letter.department.name == "县财政局"
    assert letter.figures == alert.figures
    assert letter.figures["余额占限额"] in ("95.42%", "96.09%")
    assert "债务余额接近限额" in letter.title
