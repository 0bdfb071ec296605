"""Letters drafted from every kind of rule's alert cite its figures when signed (签发): a unit's
whole budget, 三公经费, one bond, the four fiscal rules (issue 18 item 7). Each citation is
frozen with the value the rule computed — the one the letter prints — and is listed under
被引用 only to those who may see the letter."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from budget.importing import TEMPLATE_HEADERS
from budget.importing import import_file as import_budget
from budget.models import CitingDocument, FigureCitation
from cms import roles
from supervision import alerts
from supervision.choices import AlertGrade, ImportKind, RuleKind, RuleScope
from supervision.figures import BondSpec, BudgetSumSpec, FiscalSpec
from supervision.importing import import_file
from supervision.letters import services as letters
from supervision.letters.choices import SignerCapacity
from supervision.letters.models import LetterSigner
from tests.budget.conftest import LONG_HEADER, csv_bytes
from tests.supervision.conftest import BONDS_HEADER, REPAYMENTS_HEADER
from tests.supervision.test_alerts import lagging  # noqa: F401
from tests.supervision.test_fiscal_rules import county, make_rule, row  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def sign(staff_user, make_user):
    """Draft a letter from an alert, submit it and have the right signer approve it."""
    head = make_user(roles.STAFF, username="head")
    leader = make_user(roles.STAFF, username="leader")
    LetterSigner.objects.create(user=head, capacity=SignerCapacity.OFFICE_HEAD)
    LetterSigner.objects.create(user=leader, capacity=SignerCapacity.LEADER)

    def signed(alert):
        letter = letters.create_from_alert(alert, staff_user)
        letter = letters.act(letter, "submit", staff_user)
        assert not FigureCitation.objects.filter(
            document=CitingDocument.LETTER, document_key=letter.pk
        ).exists()  # a draft cites nothing yet
        signer = leader if alert.grade == AlertGrade.MAJOR else head
        return letters.act(letter, "approve", signer)

    return signed


def cited(letter) -> dict:
    """measure (with its basis or source where two share a name) → frozen citation."""
    rows = FigureCitation.objects.filter(document=CitingDocument.LETTER, document_key=letter.pk)
    assert rows.exists() and all(c.frozen and c.page_id is None for c in rows)
    found = {}
    for c in rows:
        name = c.spec.get("measure")
        if "basis" in c.spec and c.spec["basis"] != "cumulative":
            name = f"{c.spec['basis']}:{name}"
        assert name not in found
        found[name] = c
    return found


def shown(citation) -> str:
    from budget.figures import spec_from_data

    return spec_from_data(citation.spec, citation.source).format(citation.value)


def as_printed(letter, label) -> str:
    """A letter's figure as a cited value prints it: amounts are in 万元."""
    value = letter.figures[label]
    return f"{value}万元" if label.endswith("（万元）") else value


def assert_prints(letter, citations, pairs):
    for label, measure in pairs.items():
        assert shown(citations[measure]) == as_printed(letter, label), label


# --- a unit's whole budget -------------------------------------------------------------------


def test_execution_lag_of_a_unit_cites_its_own_whole_budget(lagging, sign, departments):  # noqa: F811
    # 县教育局 spends 74 of its own 100 (its school, 100 of 100, is a unit of its own)
    rows = [
        LONG_HEADER,
        [2026, 0, "一般公共预算", "2050202", "", "201001", "", "年初预算", "100"],
        [2026, 9, "一般公共预算", "2050202", "", "201001", "", "累计执行", "100"],
    ]
    assert import_budget(csv_bytes(rows), "school.csv").ok
    rule = make_rule(RuleKind.EXECUTION_LAG, "0.5", RuleScope.DEPARTMENT, grade=AlertGrade.GENERAL)
    raised = {a.department.code: a for a in alerts.evaluate_rule(rule)}
    assert set(raised) == {"101", "201"}
    alert = raised["201"]
    assert alert.code == ""
    letter = sign(alert)
    citations = cited(letter)
    assert set(citations) == {
        "adjusted",
        "cumulative",
        "execution_rate",
        "time_progress",
        "progress_gap",
    }
    assert all(
        c.source == "budget_sum" and c.spec["department"] == "201" and c.spec["codes"] == ""
        for c in citations.values()
    )
    assert citations["adjusted"].value == Decimal("1000000")
    assert citations["cumulative"].value == Decimal("740000")
    assert citations["execution_rate"].value == Decimal("74.00")
    assert citations["progress_gap"].value == Decimal("-1.00")
    assert_prints(
        letter,
        citations,
        {
            "调整预算数（万元）": "adjusted",
            "累计执行数（万元）": "cumulative",
            "执行率": "execution_rate",
            "序时进度": "time_progress",
            "进度差": "progress_gap",
        },
    )


def test_final_deviation_of_a_unit_cites_its_budget_and_final_accounts(
    classification, departments, sign
):
    rows = [
        LONG_HEADER,
        [2025, 0, "一般公共预算", "2010101", "", "201", "", "年初预算", "100"],
        [2025, 0, "一般公共预算", "2050202", "", "201", "", "年初预算", "60"],
        [2025, 0, "一般公共预算", "2010101", "", "201", "", "决算", "150"],
        [2025, 0, "一般公共预算", "2050202", "", "201", "", "决算", "90"],
    ]
    assert import_budget(csv_bytes(rows), "final.csv").ok
    rule = make_rule(RuleKind.FINAL_DEVIATION, "30", RuleScope.DEPARTMENT)
    [alert] = alerts.evaluate_rule(rule)
    citations = cited(sign(alert))
    assert set(citations) == {"initial", "adjusted", "final"}
    assert citations["initial"].value == Decimal("1600000")
    assert citations["final"].value == Decimal("2400000")  # both 类 of the unit
    assert citations["final"].spec["month"] == 0


# --- 三公经费 -----------------------------------------------------------------------------------


def test_three_public_letter_cites_the_sum_over_its_codes(classification, departments, sign):
    economic = "支出经济分类"
    rows = [
        [*LONG_HEADER, "科目分类"],
        [2026, 0, "一般公共预算", "30217", "", "101", "", "年初预算", "10", economic],
        [2026, 9, "一般公共预算", "30217", "", "101", "", "累计执行", "12", economic],
        [2026, 0, "一般公共预算", "30231", "", "101", "", "年初预算", "5", economic],
        [2026, 9, "一般公共预算", "30231", "", "101", "", "累计执行", "6", economic],
        [2026, 0, "一般公共预算", "30217", "", "201", "", "年初预算", "40", economic],
        [2026, 9, "一般公共预算", "30217", "", "201", "", "累计执行", "20", economic],
    ]
    assert import_budget(csv_bytes(rows), "x.csv").ok
    rule = make_rule(RuleKind.THREE_PUBLIC_OVER, "0", grade=AlertGrade.IMPORTANT)
    [alert] = alerts.evaluate_rule(rule)
    letter = sign(alert)
    citations = cited(letter)
    assert set(citations) == {"adjusted", "cumulative", "over_share"}
    spec = citations["adjusted"].spec
    assert (spec["kind"], spec["department"], spec["month"]) == ("economic", "101", 9)
    assert set(spec["codes"].split(",")) == {"30212", "30217", "31013", "30231"}
    assert citations["adjusted"].value == Decimal("150000")  # 10 + 5 万元, not 201's
    assert citations["cumulative"].value == Decimal("180000")
    assert citations["over_share"].value == Decimal("20.00")
    assert_prints(
        letter,
        citations,
        {
            "三公经费预算（万元）": "adjusted",
            "累计支出（万元）": "cumulative",
            "超出比例": "over_share",
        },
    )
    figure = BudgetSumSpec.from_data(spec | {"measure": "over_share"})
    assert figure.default_label() == "县财政局三公经费超出预算比例"
    assert figure.page_url().startswith(reverse("budget:three_public"))


# --- one bond -------------------------------------------------------------------------------


def _bond(code, maturity, source=""):
    return [code, f"债券{code}", "一般债务", "新增债券", "2020-01-01", "1000", "3", "5"] + [
        maturity.isoformat(),
        "",
        "项目",
        source,
    ]


@pytest.fixture
def bond_letter(sign, departments):
    due = timezone.localdate() + datetime.timedelta(days=60)
    rows = [BONDS_HEADER, _bond("M1", due), _bond("M2", due, source="土地出让收入")]
    assert import_file(csv_bytes(rows), "b.csv", ImportKind.BONDS).ok
    paid = [REPAYMENTS_HEADER, ["M1", "2025-06-30", "200", "30", "一般公共预算"]]
    assert import_file(csv_bytes(paid), "r.csv", ImportKind.REPAYMENTS).ok
    rule = make_rule(RuleKind.DEBT_MATURITY_UNFUNDED, "6", grade=AlertGrade.IMPORTANT)
    [alert] = alerts.evaluate_rule(rule)
    assert alert.key == "到期:M1"
    return sign(alert), due


def test_unfunded_maturity_letter_cites_the_bond(bond_letter):
    letter, due = bond_letter
    citations = cited(letter)
    assert set(citations) == {"amount", "outstanding", "maturity", "funded"}
    assert all(c.source == "bond" and c.spec["code"] == "M1" for c in citations.values())
    assert citations["amount"].value == Decimal("10000000")
    assert citations["outstanding"].value == Decimal("8000000")  # less the 200 repaid
    assert citations["maturity"].value == int(due.strftime("%Y%m%d"))
    assert citations["funded"].value == 0 and shown(citations["funded"]) == "未落实"
    assert shown(citations["maturity"]) == letter.figures["到期日期"]
    assert_prints(
        letter, citations, {"发行金额（万元）": "amount", "待偿本金（万元）": "outstanding"}
    )


def test_bond_figure_page_lists_the_letter_to_staff_only(
    bond_letter, client, staff_user, deputy_user
):
    from supervision.models import Bond

    letter, _due = bond_letter
    spec = BondSpec(code="M1", measure="funded")
    client.force_login(staff_user)
    html = client.get(spec.url()).content.decode()
    assert "债券“债券M1”（M1）偿还资金来源" in html and "未落实" in html
    assert letter.title in html and letter.get_absolute_url() in html
    assert reverse("supervision:bonds") + "?q=M1" in html
    html = client.get(letter.get_absolute_url()).content.decode()
    assert "签发时引用的数据" in html and "偿还资金来源</a>：未落实" in html
    # the source is settled later: the letter keeps what it said, the page says what is now
    Bond.objects.filter(code="M1").update(repayment_source="专项债券对应项目收益")
    html = client.get(spec.url()).content.decode()
    assert "已落实" in html and "未落实" in html

    client.force_login(deputy_user)  # reads debt data; letters are internal to staff
    response = client.get(spec.url())
    assert response.status_code == 200 and "已落实" in response.content.decode()
    assert letter.title not in response.content.decode()
    assert letter.title not in client.get(reverse("supervision:debt")).content.decode()


# --- the fiscal rules -----------------------------------------------------------------------


def test_budget_balance_letter_cites_the_execution_totals(county, sign):  # noqa: F811
    [alert] = alerts.evaluate_rule(make_rule(RuleKind.BUDGET_BALANCE, "10"))
    letter = sign(alert)
    citations = cited(letter)
    assert set(citations) == {
        "own_revenue",
        "funds_in",
        "other_transfers_in",
        "debt_in",
        "income",
        "own_spending",
        "funds_out",
        "other_transfers_out",
        "outgo",
        "balance_gap",
        "gap_share",
    }
    assert all(c.source == "fiscal" and c.spec["month"] == 9 for c in citations.values())
    assert citations["income"].value == Decimal("68000000")
    assert citations["outgo"].value == Decimal("78000000")
    assert citations["funds_in"].value == Decimal("5000000")
    assert citations["debt_in"].value == 0  # no 债务收入: 0, as the rule counts it
    assert citations["balance_gap"].value == Decimal("-10000000")
    assert citations["gap_share"].value == Decimal("-14.71")
    assert_prints(
        letter,
        citations,
        {
            "本级收入（万元）": "own_revenue",
            "调入资金（万元）": "funds_in",
            "其他转移性收入（万元）": "other_transfers_in",
            "债务收入（万元）": "debt_in",
            "收入总计（万元）": "income",
            "本级支出（万元）": "own_spending",
            "调出资金（万元）": "funds_out",
            "其他转移性支出（万元）": "other_transfers_out",
            "支出总计（万元）": "outgo",
            "收支差额（万元）": "balance_gap",
            "差额占收入总计": "gap_share",
        },
    )


def test_unbalanced_budget_letter_cites_the_budget_totals(county, sign):  # noqa: F811
    rows = [[*TEMPLATE_HEADERS, "科目分类"], row(2026, 9, "23008", "调整预算", "1500")]
    assert import_budget(csv_bytes(rows), "adjust.csv").ok
    raised = {a.key: a for a in alerts.evaluate_rule(make_rule(RuleKind.BUDGET_BALANCE, "5"))}
    letter = sign(raised["收支平衡:预算"])
    citations = cited(letter)
    assert {c.spec["basis"] for c in citations.values()} == {"adjusted"}
    assert citations["adjusted:income"].value == Decimal("110000000")
    assert citations["adjusted:outgo"].value == Decimal("120000000")
    assert citations["adjusted:funds_out"].value == Decimal("15000000")
    assert shown(citations["adjusted:gap_share"]) == letter.figures["差额占收入总计"]


def test_transfer_lag_letter_cites_the_transfer_subject(county, sign):  # noqa: F811
    [alert] = alerts.evaluate_rule(make_rule(RuleKind.TRANSFER_LAG, "20"))
    letter = sign(alert)
    citations = cited(letter)
    assert all(
        c.source == "budget" and c.spec["code"] == "11003" and c.spec["kind"] == "revenue"
        for c in citations.values()
    )
    assert citations["adjusted"].value == Decimal("20000000")
    assert citations["cumulative"].value == Decimal("6000000")
    assert citations["execution_rate"].value == Decimal("30.00")
    assert citations["progress_gap"].value == Decimal("-45.00")
    assert_prints(
        letter,
        citations,
        {
            "预算数（万元）": "adjusted",
            "累计下达（万元）": "cumulative",
            "下达进度": "execution_rate",
            "序时进度": "time_progress",
            "进度差": "progress_gap",
        },
    )


def test_idle_balance_letters_cite_the_unit_or_the_category(county, sign):  # noqa: F811
    [by_unit] = alerts.evaluate_rule(
        make_rule(RuleKind.IDLE_BALANCE, "10", RuleScope.DEPARTMENT, grade=AlertGrade.IMPORTANT)
    )
    letter = sign(by_unit)
    citations = cited(letter)
    assert set(citations) == {"adjusted", "final", "idle", "idle_share"}
    assert {c.spec["department"] for c in citations.values()} == {"101"}
    assert citations["idle"].value == Decimal("2000000")
    assert citations["idle_share"].value == Decimal("20.00")
    assert_prints(
        letter,
        citations,
        {
            "调整预算数（万元）": "adjusted",
            "决算数（万元）": "final",
            "结转结余（万元）": "idle",
            "结转结余占调整预算": "idle_share",
        },
    )
    [by_category] = alerts.evaluate_rule(
        make_rule(RuleKind.IDLE_BALANCE, "10", grade=AlertGrade.IMPORTANT)
    )
    assert by_category.code == "201"
    citations = FigureCitation.objects.filter(
        document=CitingDocument.LETTER, document_key=sign(by_category).pk
    )
    found = {(c.source, c.spec["measure"]): c.value for c in citations}
    assert found == {
        ("budget", "adjusted"): Decimal("10000000"),
        ("budget", "final"): Decimal("8000000"),
        ("budget_sum", "idle"): Decimal("2000000"),
        ("budget_sum", "idle_share"): Decimal("20.00"),
    }


def test_tax_share_letter_cites_the_shares_on_three_bases(county, sign):  # noqa: F811
    [alert] = alerts.evaluate_rule(make_rule(RuleKind.TAX_SHARE, "70", grade=AlertGrade.GENERAL))
    letter = sign(alert)
    citations = cited(letter)
    assert set(citations) == {
        "tax_revenue",
        "other_own_revenue",
        "own_revenue",
        "tax_share",
        "adjusted:tax_share",
        "prior_cumulative:tax_share",
    }
    assert citations["tax_revenue"].value == Decimal("18000000")
    assert citations["own_revenue"].value == Decimal("27000000")
    assert citations["tax_share"].value == Decimal("66.67")
    assert citations["adjusted:tax_share"].value == Decimal("75.00")  # 3,000 of 4,000
    assert citations["prior_cumulative:tax_share"].value == Decimal("75.00")  # 1,500 of 2,000
    assert_prints(
        letter,
        citations,
        {
            "税收收入（万元）": "tax_revenue",
            "非税收入等其他本级收入（万元）": "other_own_revenue",
            "本级收入（万元）": "own_revenue",
            "税收收入占比": "tax_share",
            "预算安排的税收占比": "adjusted:tax_share",
            "上年同期税收占比": "prior_cumulative:tax_share",
        },
    )


# --- who sees the letter under 被引用 ------------------------------------------------------------


def test_fiscal_figure_page_lists_the_letter_only_to_who_may_see_it(
    county,  # noqa: F811
    sign,
    client,
    staff_user,
    deputy_user,
    liaison_user,
):
    [alert] = alerts.evaluate_rule(make_rule(RuleKind.TAX_SHARE, "70", grade=AlertGrade.GENERAL))
    letter = sign(alert)
    spec = FiscalSpec(2026, 9, "general", "cumulative", "tax_share")
    client.force_login(staff_user)
    html = client.get(spec.url()).content.decode()
    assert "财政收支 · 税收收入占比" in html and "2026年1-9月" in html and "66.67%" in html
    assert letter.title in html and "函件" in html and "收入执行情况" in html

    client.force_login(deputy_user)  # may query the data, may not see the letter
    response = client.get(spec.url())
    assert response.status_code == 200 and "66.67%" in response.content.decode()
    assert letter.title not in response.content.decode()
    assert "目前没有您可查看的已发布文档引用此数据" in response.content.decode()

    client.force_login(liaison_user)  # neither the data nor the letter
    assert client.get(spec.url()).status_code == 403


def test_new_sources_refuse_bad_figures_in_chinese(county, client, staff_user):  # noqa: F811
    client.force_login(staff_user)
    response = client.get(reverse("supervision:figure"), {"source": "bond", "code": "X9"})
    assert response.status_code == 404 and "债券编码 X9 不存在" in response.content.decode()
    response = client.get(
        reverse("supervision:figure"),
        {"source": "budget_sum", "year": 2026, "codes": "30217,99999", "measure": "adjusted"},
    )
    assert response.status_code == 404 and "99999" in response.content.decode()
    response = client.get(
        reverse("supervision:figure"), {"source": "fiscal", "year": 2026, "basis": "x"}
    )
    assert response.status_code == 404 and "口径无效" in response.content.decode()
