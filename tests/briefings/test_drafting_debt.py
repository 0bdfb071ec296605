"""The debt paragraph of a drafted briefing: figures from the imported debt data, and a plain
statement of what is missing instead of a guess or a zero."""

import csv
import datetime
import io

import pytest

from briefings.drafting import create_draft, debt_sentences
from supervision.importing import import_file

pytestmark = pytest.mark.django_db

POSITIONS = ["年度", "债务类型", "债务限额(万元)", "债务余额(万元)", "综合财力(万元)"]
POSITIONS += ["一般公共预算和政府性基金预算支出(万元)"]
BONDS = ["债券编码", "债券名称", "债务类型", "债券类型", "发行日期", "发行金额(万元)"]
BONDS += ["票面利率(%)", "期限(年)", "到期日期", "资金用途", "项目名称", "偿还资金来源"]
REPAYMENTS = ["债券编码", "支付日期", "偿还本金(万元)", "支付利息(万元)", "资金来源"]


def load(kind, rows):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    result = import_file(buffer.getvalue().encode(), f"{kind}.csv", kind, username="test")
    assert result.ok, [e.message for e in result.errors]


def test_no_debt_data_is_said_plainly():
    assert debt_sentences(2026, datetime.date(2026, 9, 30)) == [
        "尚未导入政府债务限额和余额数据，本期不反映政府债务情况。"
    ]


def test_debt_paragraph_from_the_imported_figures():
    load(
        "positions",
        [
            POSITIONS,
            [2026, "一般债务", "1000", "900", "2000", "4000"],
            [2026, "专项债务", "1000", "800", "", ""],
        ],
    )
    load(
        "bonds",
        [
            BONDS,
            ["B1", "一般债券一期", "一般债务", "新增债券", "2021-12-01", "300", "3", "5",
             "2026-12-01", "", "", "一般公共预算收入"],
            ["B2", "专项债券一期", "专项债务", "新增债券", "2022-03-01", "200", "3", "5",
             "2027-03-01", "", "", ""],
            ["B3", "专项债券二期", "专项债务", "新增债券", "2022-03-01", "500", "3", "10",
             "2032-03-01", "", "", ""],
        ],
    )  # fmt: skip
    load("repayments", [REPAYMENTS, ["B1", "2026-06-01", "100", "9", ""]])
    text = "".join(debt_sentences(2026, datetime.date(2026, 9, 30)))
    # limit 2000, balance 1700 → 85.00%; 债务率 1700 ÷ 2000 = 85.00%;
    # 偿债率 (100 + 9) ÷ 2000 = 5.45%; 利息支出率 9 ÷ 4000 = 0.23% (0.225 rounded half up)
    assert "2026年全县政府债务限额2,000.00万元，债务余额1,700.00万元，占限额的85.00%" in text
    assert "一般债务余额900.00万元（限额1,000.00万元）、专项债务余额800.00万元" in text
    assert "债务率85.00%，偿债率5.45%，利息支出率0.23%" in text
    # B1 (200 outstanding after 100 repaid) and B2 (200, no source) fall due; B3 does not
    assert "2026年9月30日起12个月内到期的政府债券2只，待偿本金400.00万元" in text
    assert "其中1只（待偿本金200.00万元）尚未落实偿还资金来源" in text
    assert "未导入" not in text


def test_missing_inputs_and_an_earlier_year_are_named():
    load("positions", [POSITIONS, [2025, "一般债务", "1000", "950", "", ""]])
    text = "".join(debt_sentences(2026, datetime.date(2026, 6, 30)))
    assert text.startswith("2026年政府债务限额和余额数据尚未导入，以下为2025年数据。")
    assert "占限额的95.00%" in text
    assert (
        "综合财力、一般公共预算和政府性基金预算支出未导入，债务率、偿债率、利息支出率无法计算"
        in text
    )
    assert "尚未导入债券明细，债券到期情况无法统计。" in text
    assert "0.00%" not in text  # a missing input is never shown as zero


def test_drafted_briefing_has_the_debt_section(figures, staff_user, quarterly):
    load("positions", [POSITIONS, [2026, "一般债务", "1000", "900", "2000", ""]])
    page, _created = create_draft(staff_user, quarterly, 2026, 3)
    blocks = list(page.body)
    heads = [b.value for b in blocks if b.block_type == "heading"]
    assert "政府债务情况" in heads
    after = blocks[[b.value for b in blocks].index("政府债务情况") + 1]
    assert "债务余额900.00万元" in str(after.value.source)
    assert "债务率45.00%" in str(after.value.source)
