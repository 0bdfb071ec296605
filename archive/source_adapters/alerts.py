"""监督预警: a closed alert with every step of its handling and, when the letters app is
installed, its 通报 / 函 with the departments' written answers.

Order inside the item (DA/T 22-2015: 复文在前，来文在后): for each letter, the department's
answers (the latest first) come before the letter they answer; the letters in the order
they were signed. The item's 文号 is the letters' 发文字号.
"""

from pathlib import Path

from django.apps import apps
from django.urls import reverse

from archive.sources import FilingMaterial, Heading, Paragraph, Table, register_source

from .common import local_date, local_text, office_name


def _status_label(value: str) -> str:
    from supervision.choices import AlertStatus

    return AlertStatus(value).label if value in AlertStatus.values else value


# letters that went out under a number; drafts and cancelled drafts are not documents
ISSUED_STATUSES = ("approved", "sent", "answered", "closed")


def _read(field_file, name: str):
    if not field_file:
        return None
    try:
        with field_file.open("rb") as handle:
            return (name or Path(field_file.name).name, handle.read())
    except OSError:
        return None


def issued_letters(alert) -> list:
    if not apps.is_installed("supervision.letters"):
        return []
    return list(
        alert.letters.filter(status__in=ISSUED_STATUSES)
        .select_related("department")
        .prefetch_related("answers")
        .order_by("approved_at", "pk")
    )


def _letter_part(letter) -> tuple[list, list, list, dict]:
    """Files, blocks, the order of the parts, and metadata of one letter with its answers:
    answers first (复文在前), then the letter (来文在后)."""
    answers = sorted(letter.answers.all(), key=lambda a: (a.answered_on, a.pk), reverse=True)
    files, blocks, order = [], [], []
    for answer in answers:
        found = _read(answer.file, f"复文-{letter.doc_number}-{answer.filename}")
        if found:
            files.append(found)
        label = f"书面答复{('（' + answer.reference + '）') if answer.reference else ''}"
        order.append(f"{label}：答复 {letter.doc_number}")
        blocks += [
            Heading(f"{label}：答复{letter.doc_number}", 2),
            Table(
                ["项目", "内容"],
                [
                    ["答复单位", letter.department.name if letter.department_id else ""],
                    ["答复文号", answer.reference or "（无）"],
                    ["答复日期", answer.answered_on.isoformat()],
                    ["签字负责人", answer.signed_by],
                    ["逾期答复", "是" if answer.is_late else "否"],
                    ["原文件", answer.filename],
                ],
            ),
        ]
        blocks += [Paragraph(line) for line in answer.text.splitlines() if line.strip()]
    for field, suffix in ((letter.pdf_file, "pdf"), (letter.docx_file, "docx")):
        found = _read(field, f"来文-{letter.doc_number}.{suffix}")
        if found:
            files.append(found)
    order.append(f"{letter.get_kind_display()} {letter.doc_number}")
    blocks += [
        Heading(f"{letter.get_kind_display()} {letter.doc_number}：{letter.title}", 2),
        Table(
            ["项目", "内容"],
            [
                ["发文字号", letter.doc_number],
                ["主送", letter.recipients],
                ["抄送", letter.cc or "（无）"],
                ["签发时间", local_text(letter.approved_at)],
                ["发出日期", letter.sent_on.isoformat() if letter.sent_on else ""],
                ["签收日期", letter.received_on.isoformat() if letter.received_on else "待签收"],
                [
                    "答复期限",
                    (letter.answer_due.isoformat() if letter.answer_due else "")
                    + (f"（{letter.answer_workdays}个工作日）" if letter.answer_due else ""),
                ],
                ["状态", letter.get_status_display()],
            ],
        ),
    ]
    blocks += [Paragraph(line) for line in letter.body.splitlines() if line.strip()]
    metadata = {
        "发文字号": letter.doc_number,
        "文种": letter.get_kind_display(),
        "标题": letter.title,
        "主送": letter.recipients,
        "抄送": letter.cc,
        "状态": letter.status,
        "签发时间": letter.approved_at,
        "发出日期": letter.sent_on,
        "送达方式": letter.sent_via,
        "签收日期": letter.received_on,
        "答复时限（工作日）": letter.answer_workdays,
        "延期理由": letter.extension_reason,
        "答复期限": letter.answer_due,
        "正文": letter.body,
        "书面答复": [
            {
                "答复文号": a.reference,
                "答复日期": a.answered_on,
                "签字负责人": a.signed_by,
                "逾期答复": a.is_late,
                "原文件": a.filename,
                "SHA-256": a.sha256,
                "大小": a.size,
            }
            for a in answers
        ],
    }
    return files, blocks, order, metadata


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
    if alert.description:  # a problem found by hand says what was found in its own words
        blocks += [Heading("问题描述", 2)]
        blocks += [Paragraph(line) for line in alert.description.splitlines() if line.strip()]
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
    files, order, letters_metadata = [], [], []
    letters = issued_letters(alert)
    for letter in letters:
        letter_files, letter_blocks, letter_order, metadata = _letter_part(letter)
        files += letter_files
        blocks += letter_blocks
        order += letter_order
        letters_metadata.append(metadata)
    return FilingMaterial(
        title=f"监督预警：{alert.title}",
        date=local_date(closed_at),
        record_type="alert",
        doc_number="、".join(letter.doc_number for letter in letters if letter.doc_number),
        responsible=office_name(),
        files=files,
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
            "问题描述": alert.description,
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
            "函件": letters_metadata,
            "排列顺序": order,
        },
    )


def register():
    from supervision.choices import AlertStatus
    from supervision.models import Alert

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
        url_for=lambda alert: reverse("supervision:alert", args=[alert.pk]),
    )
