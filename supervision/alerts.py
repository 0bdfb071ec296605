"""监督预警: evaluating rules, the one table of alert transitions, due dates and reminders.

Handling by grade (domain.md §6): a general alert is talked through and a 联网查询情况通报 is
sent within 10 working days; important and major ones become a letter (函询). The
department answers in writing within 10 working days of receiving it, whatever the grade
(domain.md §10, 第八条); 15 for a major issue only when the letter's approver grants the
extension (supervision.letters), never by default. So once a 通报 or 函 goes out the alert's
due date is 10 working days, the earliest the letter allows. The numbers are settings
(BUDGET_ALERT_WORKDAYS) with these defaults.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max, Q
from django.urls import reverse
from django.utils import timezone

from budget.amounts import UNIT_FACTORS, WAN, format_percent, format_wan
from budget.choices import ClassificationKind, Phase
from budget.measures import department_table, execution_table, ratio_percent, three_public_rows
from budget.models import Department, Figure
from cms.usage.steps import record_step
from cms.workdays import add_workdays

from .choices import AlertGrade, AlertStatus, RuleKind, RuleScope
from .models import Alert, AlertEvent, AlertRule

HANDLE_PERMISSION = "cms.handle_alerts"

DEFAULT_WORKDAYS = {
    "handle": 10,  # 通报 or 函询 within 10 working days of the alert
    "answer": {AlertGrade.GENERAL: 10, AlertGrade.IMPORTANT: 10, AlertGrade.MAJOR: 10},
}


def workday_rules() -> dict:
    configured = getattr(settings, "BUDGET_ALERT_WORKDAYS", None) or {}
    rules = {"handle": DEFAULT_WORKDAYS["handle"], "answer": dict(DEFAULT_WORKDAYS["answer"])}
    if "handle" in configured:
        rules["handle"] = int(configured["handle"])
    rules["answer"].update({k: int(v) for k, v in configured.get("answer", {}).items()})
    return rules


# --- transitions: the one table ------------------------------------------------------------

S = AlertStatus
TRANSITIONS = {
    S.NEW: {S.BULLETIN: "发出联网查询情况通报", S.LETTER: "发函询问", S.CLOSED: "关闭"},
    S.BULLETIN: {S.ANSWERED: "登记部门书面答复", S.LETTER: "转为函询", S.CLOSED: "关闭"},
    S.LETTER: {S.ANSWERED: "登记部门书面答复", S.CLOSED: "关闭"},
    S.ANSWERED: {S.LETTER: "再次函询", S.CLOSED: "关闭"},
    S.CLOSED: {},
}


class TransitionError(ValidationError):
    pass


def allowed_transitions(alert: Alert) -> dict:
    moves = dict(TRANSITIONS[AlertStatus(alert.status)])
    if alert.grade != AlertGrade.GENERAL:
        moves.pop(S.BULLETIN, None)
    return moves


def _due_after(status: str, grade: str, start: datetime.date):
    rules = workday_rules()
    if status in (S.NEW,):
        return add_workdays(start, rules["handle"])
    if status in (S.BULLETIN, S.LETTER):
        return add_workdays(start, rules["answer"][AlertGrade(grade)])
    return None


def _set_due(alert: Alert, status: str, start: datetime.date) -> None:
    due = _due_after(status, alert.grade, start)
    alert.due_date = due
    alert.due_provisional = bool(getattr(due, "provisional", False))
    alert.overdue_notified_on = None


def _event(alert, user, action, from_status="", to_status="", note=""):
    return record_step(
        AlertEvent, user, action, from_status, to_status, note, alert=alert, due_date=alert.due_date
    )


def can_handle(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(HANDLE_PERMISSION))


@transaction.atomic
def transition(alert: Alert, to_status: str, user, note: str = "") -> Alert:
    """Move *alert* to *to_status*, or refuse with a Chinese message and change nothing."""
    if not can_handle(user):
        raise PermissionDenied("您没有处理预警的权限")
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    current = AlertStatus(alert.status)
    try:
        target = AlertStatus(to_status)
    except ValueError:
        raise TransitionError(f"未知的预警状态“{to_status}”") from None
    if target not in TRANSITIONS[current]:
        raise TransitionError(f"预警当前为“{current.label}”，不能改为“{target.label}”")
    if target not in allowed_transitions(alert):
        raise TransitionError(f"{AlertGrade(alert.grade).label}预警应以函询方式办理，不能仅发通报")
    note = (note or "").strip()
    if target in (S.CLOSED, S.ANSWERED) and not note:
        raise TransitionError(
            "关闭预警须说明理由" if target == S.CLOSED else "登记答复须填写答复要点或文号"
        )
    action = TRANSITIONS[current][target]
    alert.status = target
    _set_due(alert, target, timezone.localdate())
    alert.save()
    _event(alert, user, action, current, target, note)
    if alert.owner_id and alert.owner_id != getattr(user, "pk", None):
        _notify(alert.owner, f"预警“{alert.title[:60]}”：{action}", alert)
    return alert


def open_alert(alert: Alert, user, action: str, note: str = "") -> Alert:
    """Store a new, unsaved *alert* as 新 with its due date, its first event and a message to
    its owner when someone else opened it (for alerts no rule evaluation makes, e.g. the
    problems staff find by hand)."""
    alert.status = AlertStatus.NEW
    _set_due(alert, AlertStatus.NEW, timezone.localdate())
    alert.save()
    _event(alert, user, action, "", AlertStatus.NEW, note)
    if alert.owner_id and alert.owner_id != getattr(user, "pk", None):
        grade = AlertGrade(alert.grade).label
        _notify(alert.owner, f"新登记问题（{grade}）：{alert.title[:60]}", alert)
    return alert


@transaction.atomic
def assign_owner(alert: Alert, owner, user) -> Alert:
    if not can_handle(user):
        raise PermissionDenied("您没有处理预警的权限")
    if owner is not None and not owner.has_perm(HANDLE_PERMISSION):
        raise TransitionError(f"{owner} 没有处理预警的权限，不能作为负责人")
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    alert.owner = owner
    alert.save(update_fields=["owner", "updated_at"])
    _event(alert, user, "指派负责人", note=str(owner) if owner else "取消负责人")
    if owner is not None:
        _notify(owner, f"您被指派负责预警：{alert.title[:60]}", alert)
    return alert


def _notify(users, subject, alert):
    from cms.notifications.services import notify

    notify(
        users if isinstance(users, list | tuple) else [users],
        subject[:100],
        body=alert.title,
        url=reverse("supervision:alert", args=[alert.pk]),
        category="budget",
    )


# --- evaluating rules ---------------------------------------------------------------------------


@dataclass
class Finding:
    key: str
    title: str
    figures: dict
    code: str = ""
    department_id: int | None = None


def latest_execution_period(budget: str, kind=ClassificationKind.FUNCTION):
    found = (
        Figure.objects.filter(
            budget=budget, kind=kind, phase__in=[Phase.EXECUTION, Phase.CUMULATIVE]
        )
        .order_by("-year", "-month")
        .values_list("year", "month")
        .first()
    )
    return found


def _min_amount(rule) -> Decimal:
    return Decimal(rule.min_amount) * UNIT_FACTORS[WAN]


def _lag_findings(rule, year, month):
    threshold = Decimal(rule.threshold)
    if rule.scope == RuleScope.DEPARTMENT:
        rows = department_table(year, month, rule.budget)
        where = "单位"
    elif rule.scope == RuleScope.SECTION:
        rows = [
            r for r in execution_table(year, month, rule.budget, all_levels=True) if r.level == 1
        ]
        where = "款"
    else:
        rows = execution_table(year, month, rule.budget)
        where = "类"
    for row in rows:
        if row.adjusted is None or row.adjusted < max(_min_amount(rule), Decimal("0.01")):
            continue
        gap = row.progress_gap
        if gap is None or gap >= -threshold:
            continue
        label = row.name if rule.scope == RuleScope.DEPARTMENT else f"{row.code} {row.name}"
        yield Finding(
            key=f"{where}:{row.department_id or row.code}",
            title=(
                f"{year}年1-{month}月，{label}执行率{format_percent(row.execution_rate)}，"
                f"序时进度{format_percent(row.time_progress)}，落后{-gap:.2f}个百分点"
            ),
            figures={
                "调整预算数（万元）": format_wan(row.adjusted),
                "累计执行数（万元）": format_wan(row.cumulative),
                "执行率": format_percent(row.execution_rate),
                "序时进度": format_percent(row.time_progress),
                "进度差": format_percent(gap),
            },
            code="" if rule.scope == RuleScope.DEPARTMENT else row.code,
            department_id=row.department_id,
        )


def _three_public_findings(rule, year, month):
    per_department, _total = three_public_rows(year, month, rule.budget)
    threshold = Decimal(rule.threshold)
    for dept_id, bucket in per_department.items():
        base, spent = bucket["base"], bucket["cumulative"]
        if not base or spent is None:
            continue
        over = ratio_percent(spent - base, base)
        if over is None or over <= threshold:
            continue
        yield Finding(
            key=f"三公:{dept_id}",
            title=(
                f"{year}年1-{month}月 {bucket['name']} 三公经费支出 {format_wan(spent)} 万元，"
                f"超过预算 {format_wan(base)} 万元（超出 {format_percent(over)}）"
            ),
            figures={
                "三公经费预算（万元）": format_wan(base),
                "累计支出（万元）": format_wan(spent),
                "超出比例": format_percent(over),
            },
            department_id=dept_id,
        )


def _rush_findings(rule, year):
    threshold = Decimal(rule.threshold)
    rows = (
        department_table(year, 12, rule.budget)
        if rule.scope == RuleScope.DEPARTMENT
        else execution_table(year, 12, rule.budget)
    )
    for row in rows:
        if not row.cumulative or row.month_amount is None:
            continue
        if row.adjusted is not None and row.adjusted < _min_amount(rule):
            continue
        share = ratio_percent(row.month_amount, row.cumulative)
        if share is None or share <= threshold:
            continue
        label = row.name if rule.scope == RuleScope.DEPARTMENT else f"{row.code} {row.name}"
        yield Finding(
            key=f"突击:{row.department_id or row.code}",
            title=f"{year}年 {label} 12月支出占全年 {format_percent(share)}，存在年底突击花钱迹象",
            figures={
                "12月支出（万元）": format_wan(row.month_amount),
                "全年支出（万元）": format_wan(row.cumulative),
                "12月占比": format_percent(share),
            },
            code="" if rule.scope == RuleScope.DEPARTMENT else row.code,
            department_id=row.department_id,
        )


def _final_findings(rule, year):
    threshold = Decimal(rule.threshold)
    rows = (
        department_table(year, 12, rule.budget)
        if rule.scope == RuleScope.DEPARTMENT
        else execution_table(year, 12, rule.budget)
    )
    for row in rows:
        if row.final is None or not row.initial or row.initial < _min_amount(rule):
            continue
        deviation = row.final_vs_initial
        if deviation is None or abs(deviation) <= threshold:
            continue
        label = row.name if rule.scope == RuleScope.DEPARTMENT else f"{row.code} {row.name}"
        yield Finding(
            key=f"决算:{row.department_id or row.code}",
            title=f"{year}年 {label} 决算数较年初预算偏离 {format_percent(deviation)}",
            figures={
                "年初预算数（万元）": format_wan(row.initial),
                "调整预算数（万元）": format_wan(row.adjusted),
                "决算数（万元）": format_wan(row.final),
                "较年初预算偏离": format_percent(deviation),
                "较调整预算偏离": format_percent(row.final_vs_adjusted),
            },
            code="" if rule.scope == RuleScope.DEPARTMENT else row.code,
            department_id=row.department_id,
        )


# Rule kinds whose findings another app computes (supervision/ registers its debt rules
# here from its AppConfig.ready): kind → callable(rule) returning what findings_for returns.
EXTERNAL_FINDERS: dict = {}


def findings_for(rule: AlertRule):
    """(year, month, findings) for the latest data the rule looks at, or None."""
    if rule.kind == RuleKind.EXECUTION_LAG:
        period = latest_execution_period(rule.budget)
        if not period:
            return None
        return period[0], period[1], list(_lag_findings(rule, *period))
    if rule.kind == RuleKind.THREE_PUBLIC_OVER:
        period = latest_execution_period(rule.budget, ClassificationKind.ECONOMIC)
        if not period:
            return None
        return period[0], period[1], list(_three_public_findings(rule, *period))
    if rule.kind == RuleKind.YEAR_END_RUSH:
        year = (
            Figure.objects.filter(budget=rule.budget, month=12)
            .filter(phase__in=[Phase.EXECUTION, Phase.CUMULATIVE])
            .aggregate(y=Max("year"))["y"]
        )
        return (year, 12, list(_rush_findings(rule, year))) if year else None
    if rule.kind == RuleKind.FINAL_DEVIATION:
        year = Figure.objects.filter(budget=rule.budget, phase=Phase.FINAL).aggregate(
            y=Max("year")
        )["y"]
        return (year, 0, list(_final_findings(rule, year))) if year else None
    if rule.kind in EXTERNAL_FINDERS:
        return EXTERNAL_FINDERS[rule.kind](rule)
    return None


@transaction.atomic
def evaluate_rule(rule: AlertRule) -> list[Alert]:
    """Raise an alert for each new finding; refresh the figures of alerts already raised."""
    result = findings_for(rule)
    if not result:
        return []
    year, month, findings = result
    raised = []
    today = timezone.localdate()
    for finding in findings:
        alert = Alert.objects.filter(rule=rule, key=finding.key, year=year, month=month).first()
        if alert is None:
            alert = Alert(
                rule=rule,
                key=finding.key,
                year=year,
                month=month,
                budget=rule.budget,
                code=finding.code,
                department_id=finding.department_id,
                title=finding.title[:300],
                figures=finding.figures,
                grade=rule.grade,
                owner=rule.owner,
            )
            _set_due(alert, S.NEW, today)
            alert.save()
            _event(alert, None, "产生预警", "", S.NEW, finding.title)
            recipients = [rule.owner] if rule.owner else list(alert_handlers())
            if recipients:
                _notify(
                    recipients, f"新预警（{alert.get_grade_display()}）：{alert.title[:60]}", alert
                )
            raised.append(alert)
        elif alert.figures != finding.figures and alert.is_open:
            alert.figures = finding.figures
            alert.title = finding.title[:300]
            alert.save(update_fields=["figures", "title", "updated_at"])
            _event(alert, None, "数据更新", note=finding.title)
    return raised


def evaluate_all() -> list[Alert]:
    raised = []
    for rule in AlertRule.objects.filter(is_active=True).order_by("pk"):
        raised.extend(evaluate_rule(rule))
    return raised


def alert_handlers():
    """Active users who may handle alerts (the owners of last resort)."""
    User = get_user_model()
    perm = Q(
        groups__permissions__codename="handle_alerts",
        groups__permissions__content_type__app_label="cms",
    ) | Q(
        user_permissions__codename="handle_alerts",
        user_permissions__content_type__app_label="cms",
    )
    return User.objects.filter(perm, is_active=True).distinct()


@transaction.atomic
def remind_overdue(today=None) -> list[Alert]:
    """Tell the owner (or every handler) once about each alert past its due date."""
    today = today or timezone.localdate()
    reminded = []
    overdue = (
        Alert.objects.exclude(status=S.CLOSED)
        .filter(due_date__lt=today)
        .filter(Q(overdue_notified_on__isnull=True) | Q(overdue_notified_on__lte=F("due_date")))
        .select_related("owner")
    )
    for alert in overdue:
        recipients = [alert.owner] if alert.owner_id else list(alert_handlers())
        if recipients:
            _notify(
                recipients,
                f"预警已逾期（期限 {alert.due_date:%Y-%m-%d}）：{alert.title[:50]}",
                alert,
            )
        alert.overdue_notified_on = today
        alert.save(update_fields=["overdue_notified_on", "updated_at"])
        _event(alert, None, "逾期提醒", note=f"办理期限 {alert.due_date:%Y-%m-%d} 已过")
        reminded.append(alert)
    return reminded


def open_alerts_for(user):
    """Alerts a user may see: all of them with cms.handle_alerts or cms.query_data;
    a liaison (cms.department_scope) sees those raised on the units he or she acts for."""
    from budget.departments import department_ids_for, is_department_scoped

    if not getattr(user, "is_authenticated", False):
        return Alert.objects.none()
    if user.has_perm(HANDLE_PERMISSION) or user.has_perm("cms.query_data"):
        return Alert.objects.all()
    if is_department_scoped(user):
        return Alert.objects.filter(department_id__in=department_ids_for(user))
    return Alert.objects.none()


def department_choices():
    return Department.objects.filter(is_active=True).order_by("code")
