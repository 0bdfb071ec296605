"""A first draft of a quarterly or half-year briefing from the period's budget data.

Every figure in the draft is computed from budget.measures at drafting time: the execution
tables of the four budgets, one sentence per budget, figure blocks (frozen at publication)
for the largest 类 of the general budget, the alerts raised in the period, and a paragraph on
government debt from supervision.debt (limit, balance, indicators, bonds falling due), which
says what is missing instead of guessing.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.html import escape
from wagtail.rich_text import RichText

from budget.amounts import format_percent, format_wan
from budget.choices import BudgetKind, ClassificationKind, Measure, Phase
from budget.measures import ExecutionRow, execution_table, time_progress, total_row
from budget.models import Figure
from supervision.models import Alert

from . import subscriptions
from .choices import Cadence, MaterialKind
from .models import BriefingEvent, BriefingPage, MaterialType
from .services import ensure_index_page, period_end_month, period_label

DRAFTABLE_CADENCES = (Cadence.QUARTERLY, Cadence.HALF_YEAR, Cadence.ANNUAL)
FIGURE_SUBJECTS = 3  # figure blocks for the largest 类 of the general budget

TABLE_HEADERS = [
    "科目编码",
    "科目名称",
    "调整预算数（万元）",
    "累计执行数（万元）",
    "执行率",
    "序时进度",
    "进度差（百分点）",
]


@dataclass
class BudgetSummary:
    budget: str
    month: int
    rows: list[ExecutionRow]
    total: ExecutionRow | None

    @property
    def label(self) -> str:
        return BudgetKind(self.budget).label


def months_text(month: int) -> str:
    return "1月" if month == 1 else f"1—{month}月"


def _points(value: Decimal) -> str:
    return f"{abs(value):.2f}"


def execution_sentence(summary: BudgetSummary) -> str:
    """ "1—9月，一般公共预算支出累计完成X万元，占调整预算的Y%，低于序时进度Z个百分点"."""
    total = summary.total
    head = f"{months_text(summary.month)}，{summary.label}支出"
    if total is None or total.cumulative is None:
        return f"{head}暂无执行数据。"
    text = f"{head}累计完成{format_wan(total.cumulative)}万元"
    rate = total.execution_rate
    if rate is not None:
        base = "调整预算" if total.measures.adjusted is not None else "年初预算"
        text += f"，占{base}的{rate:.2f}%"
        gap = total.progress_gap
        if gap < 0:
            text += f"，低于序时进度{_points(gap)}个百分点"
        elif gap > 0:
            text += f"，高于序时进度{_points(gap)}个百分点"
        else:
            text += "，与序时进度持平"
    yoy = total.yoy
    if yoy is not None:
        text += f"；同比{'增长' if yoy >= 0 else '下降'}{_points(yoy)}%"
    return text + "。"


def budget_summary(year: int, month: int, budget: str) -> BudgetSummary:
    rows = execution_table(year, month, budget, kind=ClassificationKind.FUNCTION)
    total = total_row(rows, month) if rows else None
    return BudgetSummary(budget=budget, month=month, rows=rows, total=total)


def _cell(value) -> str:
    return str(value).replace("|", "／")


def table_value(summary: BudgetSummary, year: int) -> dict:
    lines = []
    for row in [*summary.rows, *([summary.total] if summary.total else [])]:
        gap = row.progress_gap
        lines.append(
            " | ".join(
                _cell(c)
                for c in (
                    row.code,
                    row.name,
                    format_wan(row.adjusted),
                    format_wan(row.cumulative),
                    format_percent(row.execution_rate),
                    format_percent(row.time_progress),
                    "" if gap is None else f"{gap:.2f}",
                )
            )
        )
    return {
        "title": f"{year}年{months_text(summary.month)}{summary.label}支出执行情况",
        "headers": " | ".join(TABLE_HEADERS),
        "rows": "\n".join(lines),
        "note": "执行率 = 累计执行数 ÷ 调整预算数；序时进度 = 已过月份 ÷ 12。",
    }


def figure_values(summary: BudgetSummary, year: int) -> list[dict]:
    largest = sorted(
        (r for r in summary.rows if r.adjusted), key=lambda r: r.adjusted, reverse=True
    )[:FIGURE_SUBJECTS]
    values = []
    for row in largest:
        for measure, what in (
            (Measure.CUMULATIVE, "累计执行数"),
            (Measure.EXECUTION_RATE, "执行率"),
        ):
            values.append(
                {
                    "year": year,
                    "month": summary.month,
                    "budget": summary.budget,
                    "kind": ClassificationKind.FUNCTION,
                    "code": row.code,
                    "department": "",
                    "measure": measure,
                    "mode": "frozen",
                    "label": f"{row.name}{what}",
                }
            )
    return values


def period_alerts(year: int, first_month: int, last_month: int):
    return (
        Alert.objects.filter(year=year, month__gte=first_month, month__lte=last_month)
        .select_related("department")
        .order_by("month", "pk")
    )


def alerts_table(alerts) -> dict:
    return {
        "title": "本期监督预警",
        "headers": " | ".join(["月份", "预警事项", "等级", "状态", "预算单位"]),
        "rows": "\n".join(
            " | ".join(
                _cell(c)
                for c in (
                    f"{a.month}月" if a.month else "全年",
                    a.title,
                    a.get_grade_display(),
                    a.get_status_display(),
                    a.department.name if a.department else "全县",
                )
            )
            for a in alerts
        ),
        "note": "",
    }


def first_month_of(cadence: str, period: int) -> int:
    last = period_end_month(cadence, period)
    return {Cadence.QUARTERLY: last - 2, Cadence.HALF_YEAR: last - 5}.get(cadence, 1)


def data_month(year: int, up_to: int, budget: str = BudgetKind.GENERAL) -> int:
    """The last month, up to *up_to*, for which *budget* has execution figures of *year*
    (0 when none)."""
    found = Figure.objects.filter(
        year=year,
        budget=budget,
        phase__in=[Phase.EXECUTION, Phase.CUMULATIVE],
        month__gte=1,
        month__lte=up_to,
    ).aggregate(m=Max("month"))["m"]
    return found or 0


def coverage_note(year: int, cadence: str, period: int, month: int) -> str:
    """The sentence a draft opens with when the period's data stops early ("" otherwise)."""
    end = period_end_month(cadence, period)
    if not month or month >= end:
        return ""
    label = period_label(cadence, year, period)
    return (
        f"说明：本期为{label}，应反映1—{end}月情况，但预算执行数据截至{month}月"
        f"（{month + 1}—{end}月数据尚未导入）。本稿各项数字均为{months_text(month)}数据，"
        f"序时进度按{month}个月计为{time_progress(month):.2f}%；"
        "待全期数据导入后重新生成或修改本稿。"
    )


def build_body(year: int, cadence: str, period: int) -> list[tuple[str, object]]:
    """The draft's blocks, computed for the months the data covers: each budget up to its
    last month with execution figures within the period (序时进度 for those months)."""
    end = period_end_month(cadence, period)
    general_month = data_month(year, end) or end
    summaries = [
        budget_summary(year, data_month(year, end, b) or general_month, b)
        for b in BudgetKind.values
    ]
    month = summaries[0].month
    body: list[tuple[str, object]] = []
    note = coverage_note(year, cadence, period, month)
    if note:
        body.append(("paragraph", RichText(f"<p><strong>{escape(note)}</strong></p>")))
    body.append(("heading", "预算执行总体情况"))
    for summary in summaries:
        body.append(("paragraph", RichText(f"<p>{escape(execution_sentence(summary))}</p>")))
    body.append(("heading", "四本预算执行情况表"))
    for summary in summaries:
        if summary.rows:
            body.append(("table", table_value(summary, year)))
    general = summaries[0]
    figures = figure_values(general, year)
    if figures:
        body.append(("heading", "重点支出数据"))
        body += [("figure", value) for value in figures]
    first = first_month_of(cadence, period)
    month = month if month >= first else end  # no data in the period: its months
    alerts = list(period_alerts(year, first, month))
    body.append(("heading", "本期监督预警情况"))
    if alerts:
        grades = {}
        for alert in alerts:
            grades[alert.get_grade_display()] = grades.get(alert.get_grade_display(), 0) + 1
        counts = "，".join(f"{label}{n}条" for label, n in grades.items())
        body.append(
            (
                "paragraph",
                RichText(
                    f"<p>{first}—{month}月共产生监督预警{len(alerts)}条（{escape(counts)}）。</p>"
                ),
            )
        )
        body.append(("table", alerts_table(alerts)))
    else:
        body.append(("paragraph", RichText(f"<p>{first}—{month}月未产生监督预警。</p>")))
    body.append(("heading", "政府债务情况"))
    debt = debt_sentences(year, period_end_date(year, cadence, period))
    body.append(("paragraph", RichText(f"<p>{escape(''.join(debt))}</p>")))
    return body


DEBT_HORIZON_MONTHS = 12  # bonds falling due within this many months of the period's end


def _wan(yuan) -> str:
    return f"{format_wan(yuan)}万元"


def debt_sentences(year: int, as_of: datetime.date) -> list[str]:
    """The debt paragraph: the latest limit and balance up to *year* (saying when they are an
    earlier year's), the indicators whose inputs exist (naming those that do not), and the
    bonds with principal outstanding that fall due within DEBT_HORIZON_MONTHS of *as_of*."""
    from supervision.choices import DebtCategory
    from supervision.debt import history, maturing_queryset, maturing_totals
    from supervision.models import Bond

    rows = [r for r in history() if r.year <= year and r.limits and r.balances]
    if not rows:
        return ["尚未导入政府债务限额和余额数据，本期不反映政府债务情况。"]
    row = rows[-1]
    first = f"{row.year}年"
    if row.year < year:
        first = f"{year}年政府债务限额和余额数据尚未导入，以下为{row.year}年数据。{first}"
    first += f"全县政府债务限额{_wan(row.limit)}，债务余额{_wan(row.balance)}"
    first += f"，占限额的{row.limit_usage:.2f}%" if row.limit_usage is not None else ""
    parts = [
        f"{DebtCategory(c).label}余额{_wan(row.balances[c])}"
        + (f"（限额{_wan(row.limits[c])}）" if row.limits.get(c) is not None else "")
        for c in DebtCategory.values
        if c in row.balances
    ]
    if parts:
        first += "，其中" + "、".join(parts)
    sentences = [first + "。"]
    shown, missing = [], []
    for label, value, needs in (
        ("债务率", row.debt_ratio, "综合财力"),
        ("偿债率", row.service_ratio, "综合财力"),
        ("利息支出率", row.interest_ratio, "一般公共预算和政府性基金预算支出"),
    ):
        if value is None:
            missing.append((label, needs))
        else:
            shown.append(f"{label}{value:.2f}%")
    if shown:
        sentences.append(f"{row.year}年" + "，".join(shown) + "。")
    if missing:
        needs = "、".join(dict.fromkeys(n for _l, n in missing))
        labels = "、".join(label for label, _n in missing)
        sentences.append(f"{row.year}年{needs}未导入，{labels}无法计算。")
    if not Bond.objects.exists():
        sentences.append("尚未导入债券明细，债券到期情况无法统计。")
        return sentences
    due = maturing_queryset(DEBT_HORIZON_MONTHS, as_of)
    count, outstanding = maturing_totals(due)
    window = f"{as_of.year}年{as_of.month}月{as_of.day}日起{DEBT_HORIZON_MONTHS}个月内"
    if not count:
        sentences.append(f"{window}没有到期待偿的政府债券。")
        return sentences
    text = f"{window}到期的政府债券{count}只，待偿本金{_wan(outstanding)}"
    unfunded, unfunded_amount = maturing_totals(
        maturing_queryset(DEBT_HORIZON_MONTHS, as_of, unfunded_only=True)
    )
    if unfunded:
        text += f"，其中{unfunded}只（待偿本金{_wan(unfunded_amount)}）尚未落实偿还资金来源"
    else:
        text += "，均已落实偿还资金来源"
    sentences.append(text + "。")
    return sentences


def period_end_date(year: int, cadence: str, period: int) -> datetime.date:
    month = period_end_month(cadence, period)
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def check_draftable(material_type: MaterialType, year: int, period: int) -> None:
    if material_type.kind != MaterialKind.BRIEFING:
        raise ValidationError("只有本委编印的简报可以从数据生成初稿。")
    if material_type.cadence not in DRAFTABLE_CADENCES:
        raise ValidationError("只有季度、半年和年度简报可以从数据生成初稿。")
    if period not in [p for p, *_rest in _periods(material_type, year)]:
        raise ValidationError("期间不正确。")
    month = period_end_month(material_type.cadence, period)
    if not data_month(year, month):
        raise ValidationError(f"{year}年1—{month}月尚无预算执行数据，无法生成初稿。")


def _periods(material_type, year):
    from .services import periods_for

    return periods_for(material_type.cadence, year)


def existing_draft(material_type, year, period):
    return BriefingPage.objects.filter(
        material_type=material_type, year=year, period=period
    ).first()


@transaction.atomic
def create_draft(user, material_type: MaterialType, year: int, period: int):
    """Create (or return the existing) briefing for the period as an unpublished draft.
    Returns (page, created)."""
    from .services import may_manage

    if not may_manage(user):
        raise PermissionDenied("只有工作人员可以生成简报初稿。")
    check_draftable(material_type, year, period)
    existing = existing_draft(material_type, year, period)
    if existing is not None:
        return existing, False
    index = ensure_index_page()
    label = period_label(material_type.cadence, year, period)
    page = BriefingPage(
        title=f"{label}预算执行情况",
        slug=f"{material_type.code}-{year}-{period}",
        material_type=material_type,
        year=year,
        period=period,
        period_label=label,
        body=build_body(year, material_type.cadence, period),
        data_month=data_month(year, period_end_month(material_type.cadence, period)),
        live=False,
    )
    # the 印送 lists are given before the page is first saved: add_child stores them with it
    # (a second save would cost a second search-index write inside the drafting request)
    page.recipient_groups = list(material_type.default_recipient_groups.all())
    page.recipient_departments = list(material_type.default_recipient_departments.all())
    if material_type.cadence in subscriptions.ROUTINE_CADENCES:
        # the 元谋 list above, plus the readers who subscribed to this kind (as of now)
        page.recipient_readers = list(subscriptions.subscribed_readers(material_type))
    index.add_child(instance=page)
    page.save_revision(user=user, log_action=True)
    note = label
    if page.data_incomplete:
        note += f"（数据截至{page.data_month}月）"
    BriefingEvent.objects.create(page=page, actor=user, action="生成初稿", note=note)
    return page, True
