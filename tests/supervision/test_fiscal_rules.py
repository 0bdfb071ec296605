"""The four fiscal rules of the county measures: 收支平衡 (incl. 调入调出), 转移支付下达,
结转结余 and 税收收入占比, evaluated through budget's alert flow."""

from decimal import Decimal

import pytest

from budget.importing import TEMPLATE_HEADERS, import_file
from budget.models import Department
from supervision import alerts
from supervision.choices import AlertGrade, RuleKind, RuleScope
from supervision.fiscal_rules import SUBJECTS
from supervision.letters.services import create_from_alert
from supervision.models import AlertRule
from tests.budget.subjects import store_subjects

from .conftest import csv_bytes

pytestmark = pytest.mark.django_db

GENERAL = "一般公共预算"
REV, FUN = "收入分类", "支出功能分类"


def row(year, month, code, phase, amount, kind=FUN, unit=""):
    return [year, month, GENERAL, code, "", unit, "", phase, amount, kind]


@pytest.fixture
def county(db):
    """2026 to September (time progress 75%), county totals in 万元:

    revenue budget 11,000 = tax 3,000 + non-tax 1,000 + 一般性转移支付 4,000 + 专项 2,000 +
    调入资金 1,000; spending budget 11,000 = 10,500 + 调出资金 500 (balanced).
    Executed: revenue 6,800 (tax 1,800, non-tax 900, 一般性 3,000, 专项 600, 调入 500);
    spending 7,800 (7,500 + 调出 300): a gap of 1,000 = 14.71% of revenue.
    2025 September: tax 1,500, non-tax 500 (75%). 2025 final accounts by unit: 县财政局
    spent 800 of 1,000 (20% left), 县教育局 990 of 1,000 (1%)."""
    for year in (2025, 2026):
        store_subjects(year)
        store_subjects(year, SUBJECTS)
    finance = Department.objects.create(code="101", name="县财政局")
    Department.objects.create(code="201", name="县教育局")
    rows = [
        [*TEMPLATE_HEADERS, "科目分类"],
        row(2026, 0, "10101", "年初预算", "3000", REV),
        row(2026, 9, "10101", "累计执行", "1800", REV),
        row(2026, 0, "10302", "年初预算", "1000", REV),
        row(2026, 9, "10302", "累计执行", "900", REV),
        row(2026, 0, "11002", "年初预算", "4000", REV),
        row(2026, 9, "11002", "累计执行", "3000", REV),
        row(2026, 0, "11003", "年初预算", "2000", REV),
        row(2026, 9, "11003", "累计执行", "600", REV),
        row(2026, 0, "11009", "年初预算", "1000", REV),
        row(2026, 9, "11009", "累计执行", "500", REV),
        row(2026, 0, "2010101", "年初预算", "10500"),
        row(2026, 9, "2010101", "累计执行", "7500"),
        row(2026, 0, "23008", "年初预算", "500"),
        row(2026, 9, "23008", "累计执行", "300"),
        row(2025, 9, "10101", "累计执行", "1500", REV),
        row(2025, 9, "10302", "累计执行", "500", REV),
        row(2025, 0, "2010101", "年初预算", "1000", unit="101"),
        row(2025, 0, "2010101", "决算", "800", unit="101"),
        row(2025, 0, "2050202", "年初预算", "1000", unit="201"),
        row(2025, 0, "2050202", "决算", "990", unit="201"),
    ]
    result = import_file(csv_bytes(rows), "county.csv")
    assert result.ok, result.errors
    return finance


def make_rule(kind, threshold, scope=RuleScope.CATEGORY, minimum=0, grade=AlertGrade.MAJOR):
    return AlertRule.objects.create(
        name=RuleKind(kind).label,
        kind=kind,
        scope=scope,
        threshold=Decimal(threshold),
        min_amount=Decimal(minimum),
        grade=grade,
    )


def test_balance_counts_transfers_in_and_out_and_fires_on_the_execution_gap(county):
    rule = make_rule(RuleKind.BUDGET_BALANCE, "10")
    [alert] = alerts.evaluate_rule(rule)
    assert alert.key == "收支平衡:执行" and (alert.year, alert.month) == (2026, 9)
    figures = alert.figures
    assert figures["收入总计（万元）"] == "6,800.00"
    assert figures["调入资金（万元）"] == "500.00"
    assert figures["本级收入（万元）"] == "2,700.00"
    assert figures["其他转移性收入（万元）"] == "3,600.00"
    assert figures["支出总计（万元）"] == "7,800.00"
    assert figures["调出资金（万元）"] == "300.00"
    assert figures["本级支出（万元）"] == "7,500.00"
    assert figures["收支差额（万元）"] == "-1,000.00"
    assert figures["差额占收入总计"] == "-14.71%"
    assert "收支缺口1,000.00万元" in alert.title and "含调入资金500.00万元" in alert.title
    assert alerts.evaluate_rule(rule) == []  # once


def test_balance_threshold_and_minimum_amount(county):
    assert alerts.evaluate_rule(make_rule(RuleKind.BUDGET_BALANCE, "15")) == []
    assert alerts.evaluate_rule(make_rule(RuleKind.BUDGET_BALANCE, "10", minimum=1001)) == []


def test_an_unbalanced_budget_is_a_finding_of_its_own(county):
    rows = [[*TEMPLATE_HEADERS, "科目分类"], row(2026, 9, "23008", "调整预算", "1500")]
    assert import_file(csv_bytes(rows), "adjust.csv").ok
    # budget: revenue 11,000 vs spending 10,500 + 1,500 = 12,000: 9.09% of revenue
    raised = alerts.evaluate_rule(make_rule(RuleKind.BUDGET_BALANCE, "5"))
    by_key = {a.key: a for a in raised}
    assert set(by_key) == {"收支平衡:预算", "收支平衡:执行"}
    planned = by_key["收支平衡:预算"]
    assert planned.figures["收入总计（万元）"] == "11,000.00"
    assert planned.figures["支出总计（万元）"] == "12,000.00"
    assert planned.figures["调出资金（万元）"] == "1,500.00"
    assert "预算收支不平衡" in planned.title and "占收入总计9.09%" in planned.title


def test_transfer_lag_per_transfer_subject(county):
    rule = make_rule(RuleKind.TRANSFER_LAG, "20")
    [alert] = alerts.evaluate_rule(rule)
    # 专项 600 of 2,000 = 30% at 75% time progress; 一般性 is on pace
    assert alert.key == "转移支付:11003" and alert.code == "11003"
    assert alert.figures["下达进度"] == "30.00%"
    assert alert.figures["序时进度"] == "75.00%"
    assert alert.figures["按序时应下达（万元）"] == "1,500.00"
    assert alert.figures["尚未下达（万元）"] == "1,400.00"
    assert alert.title.endswith("落后45.00个百分点")
    assert alerts.evaluate_rule(make_rule(RuleKind.TRANSFER_LAG, "50")) == []
    # the minimum amount leaves out small transfer subjects
    assert alerts.evaluate_rule(make_rule(RuleKind.TRANSFER_LAG, "20", minimum=2001)) == []


def test_idle_balances_by_unit_and_by_category(county):
    [alert] = alerts.evaluate_rule(make_rule(RuleKind.IDLE_BALANCE, "10", RuleScope.DEPARTMENT))
    assert alert.department == county and (alert.year, alert.month) == (2025, 0)
    assert alert.figures["结转结余（万元）"] == "200.00"
    assert alert.figures["决算数（万元）"] == "800.00"
    assert alert.figures["结转结余占调整预算"] == "20.00%"
    [by_class] = alerts.evaluate_rule(make_rule(RuleKind.IDLE_BALANCE, "10"))
    assert by_class.code == "201" and by_class.department is None
    assert alerts.evaluate_rule(make_rule(RuleKind.IDLE_BALANCE, "20")) == []


def test_tax_share_below_the_line(county):
    [alert] = alerts.evaluate_rule(make_rule(RuleKind.TAX_SHARE, "70", grade=AlertGrade.GENERAL))
    assert alert.figures["税收收入占比"] == "66.67%"
    assert alert.figures["本级收入（万元）"] == "2,700.00"  # transfers and 调入 are not own revenue
    assert alert.figures["预算安排的税收占比"] == "75.00%"
    assert alert.figures["上年同期税收占比"] == "75.00%"
    assert "低于70.00%" in alert.title
    assert alerts.evaluate_rule(make_rule(RuleKind.TAX_SHARE, "60")) == []


def test_rules_without_revenue_data_find_nothing(db):
    for kind in (RuleKind.BUDGET_BALANCE, RuleKind.TRANSFER_LAG, RuleKind.TAX_SHARE):
        assert alerts.findings_for(make_rule(kind, "1")) is None
    assert alerts.findings_for(make_rule(RuleKind.IDLE_BALANCE, "1")) is None


def test_the_letter_carries_the_rule_inputs(county, staff_user):
    [alert] = alerts.evaluate_rule(make_rule(RuleKind.TRANSFER_LAG, "20"))
    letter = create_from_alert(alert, staff_user)
    assert letter.figures == alert.figures
    assert letter.figures["预算数（万元）"] == "2,000.00"
    assert "专项转移支付收入" in letter.body
