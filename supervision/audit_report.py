"""The drafted 审计查出问题整改情况报告 for the standing committee, from the register, in the
office layout (briefings/officialdoc.py, GB/T 9704). Every figure comes from the findings
and their reports as they stand; staff edit the draft in Word before it goes out."""

from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from briefings import officialdoc as od
from budget.amounts import format_wan
from budget.measures import ratio_percent

from .choices import RectificationStatus
from .models import AuditFinding

S = RectificationStatus
ZERO = Decimal(0)


def summary(year: int, today=None) -> dict:
    """The figures of the report: counts by status, amounts, units, open findings."""
    today = today or timezone.localdate()
    findings = list(
        AuditFinding.objects.filter(year=year).select_related("department").order_by("deadline")
    )
    counts = {status: 0 for status in S}
    units = defaultdict(lambda: {"n": 0, "amount": ZERO, **{s: 0 for s in S}, "fixed": ZERO})
    for f in findings:
        counts[S(f.status)] += 1
        unit = units[f.department.name]
        unit["n"] += 1
        unit[S(f.status)] += 1
        unit["amount"] += f.amount or ZERO
        unit["fixed"] += f.recovered + f.corrected
    return {
        "year": year,
        "total": len(findings),
        "counts": counts,
        "amount": sum((f.amount or ZERO for f in findings), ZERO),
        "recovered": sum((f.recovered for f in findings), ZERO),
        "corrected": sum((f.corrected for f in findings), ZERO),
        "done_share": ratio_percent(counts[S.DONE], len(findings)),
        "units": dict(sorted(units.items(), key=lambda kv: -kv[1]["n"])),
        "open": [f for f in findings if f.status != S.DONE],
        "overdue": [f for f in findings if f.is_overdue(today)],
    }


def report_document(year: int, today=None, figures=None) -> od.ReportDocument:
    """*figures*: summary(year, today) when the caller already has it (it records them as
    the report's citations, supervision/citations.py)."""
    today = today or timezone.localdate()
    s = figures or summary(year, today)
    c = s["counts"]
    opening = (
        f"{year}年度审计工作报告反映的问题共 {s['total']} 个，涉及金额 {format_wan(s['amount'])} "
        f"万元。截至{od.format_chinese_date(today)}，已整改 {c[S.DONE]} 个，部分整改 "
        f"{c[S.PARTIAL]} 个，未整改 {c[S.NONE]} 个，整改完成率 "
        f"{s['done_share'] if s['done_share'] is not None else 0}%；"
        f"通过上缴财政、追回资金 {format_wan(s['recovered'])} 万元，"
        f"调整账目、归还原资金渠道 {format_wan(s['corrected'])} 万元。"
    )
    blocks = [od.Heading("整改工作总体情况"), od.Paragraph(opening)]
    blocks.append(od.Heading("各责任单位整改情况"))
    blocks.append(
        od.Table(
            headers=["责任单位", "问题数", "涉及金额（万元）", "已整改", "部分整改", "未整改",
                     "已整改金额（万元）"],
            rows=[
                [name, u["n"], format_wan(u["amount"]), u[S.DONE], u[S.PARTIAL], u[S.NONE],
                 format_wan(u["fixed"])]
                for name, u in s["units"].items()
            ],
            title="表1  审计查出问题整改情况（按责任单位）",
        )
    )  # fmt: skip
    blocks.append(od.Heading("尚未完成整改的问题"))
    if s["open"]:
        blocks.append(
            od.Table(
                headers=["编号", "问题", "责任单位", "整改期限", "状态"],
                rows=[
                    [f.number, f.problem[:80], f.department.name, f"{f.deadline:%Y-%m-%d}",
                     f.get_status_display() + ("（逾期）" if f.is_overdue(today) else "")]
                    for f in s["open"]
                ],
                title="表2  尚未完成整改的问题",
            )
        )  # fmt: skip
        overdue = s["overdue"]
        blocks.append(
            od.Paragraph(
                f"以上 {len(s['open'])} 个问题中，{len(overdue)} 个已超过整改期限。"
                if overdue
                else f"以上 {len(s['open'])} 个问题均在整改期限内。"
            )
        )
    else:
        blocks.append(od.Paragraph("审计查出的问题均已完成整改。"))
    return od.ReportDocument(
        title=f"关于{year}年度审计查出问题整改情况的报告",
        issuer=getattr(settings, "LETTERS_ISSUER", "县人大常委会预算工作委员会"),
        recipients=["县人大常委会"],
        date=today,
        blocks=blocks,
    )


def render(year: int, today=None, figures=None) -> bytes:
    return od.render_report_docx(report_document(year, today, figures))
