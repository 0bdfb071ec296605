"""Problems found by hand (人工发现问题): what staff find while analysing query results.

A problem is recorded as an alert (supervision.models.Alert) of the system rule of kind
RuleKind.MANUAL, created on demand and never evaluated. From then on it is an alert like
any other: the one transition table of supervision.alerts, its due dates by grade, overdue
reminders, and the 通报 / 函 of supervision.letters drafted from it (title, description and
the figures cited). Recording one needs the capability to handle alerts (cms.handle_alerts)
and writes the alert's first event row (人工登记问题).

A problem may name the query request (查询申请登记, 第五条) in whose analysis it was found
(Alert.source_query): only one the recorder may see (supervision.queries.requests_for). The
request then gets an event row (发现问题) naming the alert, and its page lists the problems
found from it to those who may see them (supervision.alerts.open_alerts_for).
"""

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from budget.choices import BudgetKind

from . import alerts, queries
from .choices import AlertGrade, RuleKind
from .models import Alert, AlertRule

MANUAL_RULE_NAME = "联网查询分析发现的问题"
RECORD_ACTION = "人工登记问题"
QUERY_ACTION = "发现问题"  # the event on the query request a problem was found from
MAX_FIGURES = 30
MAX_FIGURE_NAME = 60
MAX_TITLE = 300

# "项目：数值" — a full-width or ASCII colon, or a tab (pasted from a spreadsheet)
_LINE = re.compile(r"^(?P<name>[^:：\t]+?)\s*[:：\t]\s*(?P<value>.*)$")
_NUMBER = re.compile(r"^[+\-−]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?%?$")


class ProblemError(ValidationError):
    pass


def can_record(user) -> bool:
    return alerts.can_handle(user)


def manual_rule() -> AlertRule:
    """The system rule that owns hand-found problems (made the first time it is needed).
    It is inactive, so evaluation passes it by; its threshold is not used."""
    rule = AlertRule.objects.filter(kind=RuleKind.MANUAL).order_by("pk").first()
    if rule is None:
        rule = AlertRule.objects.create(
            name=MANUAL_RULE_NAME,
            kind=RuleKind.MANUAL,
            threshold=Decimal(0),
            grade=AlertGrade.GENERAL,
            is_active=False,
        )
    return rule


def manual_alerts():
    return Alert.objects.filter(rule__kind=RuleKind.MANUAL)


def parse_figures(text: str) -> dict:
    """The cited figures, one "项目：数值" a line, as an ordered dict of name → value text.
    Refuses (ProblemError, every bad line listed) anything that is not a number (a trailing
    % is allowed; units belong in the name, e.g. "调整预算数（万元）")."""
    figures, errors = {}, []
    lines = [(n, line.strip()) for n, line in enumerate((text or "").splitlines(), 1)]
    lines = [(n, line) for n, line in lines if line]
    for number, line in lines:
        match = _LINE.match(line)
        if not match or not match.group("value").strip():
            errors.append(
                f"第{number}行“{line[:40]}”应写作“项目：数值”，如“调整预算数（万元）：1,234.56”"
            )
            continue
        name = match.group("name").strip()
        value = match.group("value").strip().replace(" ", "")
        if len(name) > MAX_FIGURE_NAME:
            errors.append(f"第{number}行的项目名称超过{MAX_FIGURE_NAME}个字")
        elif not _NUMBER.match(value) or not _is_number(value):
            errors.append(
                f"第{number}行“{name}”的数值“{value[:20]}”不是数字"
                "（可带千分位逗号和 % 号，单位请写在项目名称里）"
            )
        elif name in figures:
            errors.append(f"第{number}行的项目“{name}”与前面重复")
        else:
            figures[name] = value.replace("−", "-")
    if len(lines) > MAX_FIGURES:
        errors.append(f"引用的数据最多{MAX_FIGURES}项，现有{len(lines)}项")
    if not lines:
        errors.append("请列出所引用的数据，每行一项“项目：数值”")
    if errors:
        raise ProblemError(errors)
    return figures


def _is_number(value: str) -> bool:
    try:
        Decimal(value.replace(",", "").replace("%", "").replace("−", "-"))
    except InvalidOperation:
        return False
    return True


@transaction.atomic
def record_problem(
    user,
    *,
    title: str,
    grade: str,
    figures: dict,
    description: str = "",
    year: int | None = None,
    month: int = 0,
    budget: str = BudgetKind.GENERAL,
    department=None,
    code: str = "",
    owner=None,
    source: str = "",
    source_query=None,
) -> Alert:
    """Record a hand-found problem as a new alert (状态 新) with its first event row; with
    *source_query* (a QueryRequest the user may see) also an event row on that request."""
    if not can_record(user):
        raise PermissionDenied("您没有登记问题的权限（须有处理预警的权限）")
    title = (title or "").strip()
    errors = []
    if not title:
        errors.append("请填写问题标题")
    elif len(title) > MAX_TITLE:
        errors.append(f"问题标题不能超过{MAX_TITLE}个字")
    if grade not in AlertGrade.values:
        errors.append("请选择等级：一般、重要或重大")
    if budget not in BudgetKind.values:
        errors.append("请选择预算类型")
    year = year or timezone.localdate().year
    if not 2000 <= int(year) <= 2100:
        errors.append("年度应在 2000 至 2100 之间")
    if not 0 <= int(month) <= 12:
        errors.append("月份应在 0（全年）至 12 之间")
    if code and not code.isdigit():
        errors.append("科目编码只能是数字")
    if not figures:
        errors.append("请列出所引用的数据，每行一项“项目：数值”")
    if owner is not None and not owner.has_perm(alerts.HANDLE_PERMISSION):
        errors.append(f"{owner} 没有处理预警的权限，不能作为负责人")
    if source_query is not None and not may_link(user, source_query):
        errors.append("所选查询申请不存在或您无权查看，不能作为问题的来源")
    if errors:
        raise ProblemError(errors)
    description = (description or "").strip()
    source = (source or "").strip()
    if source:
        description = f"来源：{source}\n{description}".strip()
    rule = AlertRule.objects.select_for_update().get(pk=manual_rule().pk)
    number = Alert.objects.filter(rule=rule).count() + 1
    owner = owner or user
    alert = Alert(
        rule=rule,
        key=f"人工:{number}",
        year=int(year),
        month=int(month),
        budget=budget,
        code=code,
        department=department,
        title=title,
        description=description,
        figures=dict(figures),
        grade=grade,
        owner=owner,
        source_query=source_query,
    )
    note = description or title
    if source_query is not None:
        # the number only: who may see the alert need not see the request (and vice versa)
        note = f"{note}\n来源查询：查询申请 {source_query.pk}"
    alert = alerts.open_alert(alert, user, RECORD_ACTION, note)
    if source_query is not None:
        queries.record_event(
            source_query,
            user,
            QUERY_ACTION,
            note=f"登记为{alert.get_grade_display()}预警 {alert.pk}",
        )
    return alert


def linkable_queries(user):
    """The query requests a problem may be linked to: those the user may see, newest first."""
    return queries.requests_for(user).order_by("-received_on", "-pk")


def may_link(user, query) -> bool:
    return queries.requests_for(user).filter(pk=query.pk).exists()


def problems_from(query, user):
    """The problems found from *query* that *user* may see (as alerts), newest first."""
    return (
        alerts.open_alerts_for(user)
        .filter(source_query=query)
        .select_related("owner")
        .order_by("-created_at", "-pk")
    )


def source_query_for(alert, user):
    """The query request *alert* was found from, if there is one and *user* may see it."""
    if not alert.source_query_id:
        return None
    return queries.requests_for(user).filter(pk=alert.source_query_id).first()


def default_year_month(today: datetime.date | None = None) -> tuple[int, int]:
    """The period a problem usually concerns: last month's execution (January: the year)."""
    today = today or timezone.localdate()
    return (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
