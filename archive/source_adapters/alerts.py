"""监督预警: a closed alert with every step of its handling (letters are added when the
letters module files them with the alert)."""

from django.urls import reverse

from archive.sources import FilingMaterial, Heading, Paragraph, Table, register_source

from .common import local_date, local_text, office_name


def _status_label(value: str) -> str:
    from budget.choices import AlertStatus

    return AlertStatus(value).label if value in AlertStatus.values else value


def describe(alert) -> FilingMaterial:
    events = list(alert.events.select_related("actor").order_by("at", "pk"))
    closed_at = events[-1].at if events else alert.updated_at
    figures = alert.figures or {}
    blocks = [
        Paragraph(
            f"规则：{alert.rule.name}；等级：{alert.get_grade_display()}；"
            f"状态：{alert.get_status_display()}；年度 {alert.year}"
            + (f" {alert.month} 月" if alert.month else "")
        ),
        Paragraph(
            "；".join(
                part
                for part in (
                    f"预算类型：{alert.get_budget_display()}",
                    alert.code and f"科目编码：{alert.code}",
                    alert.department and f"预算单位：{alert.department}",
                )
                if part
            )
        ),
    ]
    if figures:
        blocks += [
            Heading("相关数据", 2),
            Table(["项目", "数值"], [[k, v] for k, v in figures.items()]),
        ]
    blocks += [
        Heading("处理经过", 2),
        Table(
            ["时间", "操作人", "事项", "原状态", "新状态", "说明"],
            [
                [
                    local_text(e.at),
                    e.actor_name,
                    e.action,
                    _status_label(e.from_status),
                    _status_label(e.to_status),
                    e.note,
                ]
                for e in events
            ],
        ),
    ]
    return FilingMaterial(
        title=f"监督预警：{alert.title}",
        date=local_date(closed_at),
        record_type="alert",
        responsible=office_name(),
        blocks=blocks,
        metadata={
            "预警编号": alert.pk,
            "规则": alert.rule.name,
            "对象键": alert.key,
            "年度": alert.year,
            "月份": alert.month,
            "预算类型": alert.budget,
            "科目编码": alert.code,
            "预算单位": str(alert.department) if alert.department else "",
            "等级": alert.grade,
            "状态": alert.status,
            "相关数据": figures,
            "办理期限": alert.due_date,
            "处理经过": [
                {
                    "时间": e.at,
                    "操作人": e.actor_name,
                    "事项": e.action,
                    "原状态": e.from_status,
                    "新状态": e.to_status,
                    "说明": e.note,
                }
                for e in events
            ],
        },
    )


def register():
    from budget.choices import AlertStatus
    from budget.models import Alert

    register_source(
        "budget.alert",
        model=Alert,
        label="监督预警（已关闭）",
        record_type="alert",
        describe=describe,
        candidates=lambda: (
            Alert.objects.filter(status=AlertStatus.CLOSED)
            .select_related("rule", "department")
            .order_by("year", "month", "pk")
        ),
        display=lambda alert: alert.title,
        url_for=lambda alert: reverse("budget:alert", args=[alert.pk]),
    )
