"""代表建议: a closed (已办结) suggestion filed as one item with its written answers, the
co-units' views, the deputy's evaluations, the follow-ups and the whole timeline.

Order inside the item (DA/T 22-2015: 复文在前，来文在后): the answers (the latest round
first), then the suggestion itself, then the rest of its handling. Deputies appear by name
only: never a phone number, ID number, employer or address (those are personal details,
cms/personal.py), neither in the rendition nor in the metadata.
"""

from pathlib import Path

from django.urls import reverse

from archive.sources import FilingMaterial, Heading, Paragraph, Table, register_source

from .common import local_text


def _read(field_file, name: str):
    if not field_file:
        return None
    try:
        with field_file.open("rb") as handle:
            return (name or Path(field_file.name).name, handle.read())
    except OSError:
        return None  # listed in the metadata with its digest; the package keeps the rest


def item_date(suggestion):
    """日期 of the item. DA/T 22 dates an item by its leading document's signing date; a
    suggestion is filed with its answer in front (复文在前), so the latest written answer's
    date is the item's date and its year the 年度: an item raised at the January session and
    answered in spring belongs to the year the county answered it. Without an answer (closed
    for another reason) the closure date, and failing that the date it was raised."""
    latest = suggestion.replies.order_by("-round").first()
    if latest is not None:
        return latest.answered_on
    return suggestion.closed_on or suggestion.submitted_on


def _deputy_names(suggestion) -> list[str]:
    return [d.name for d in suggestion.co_signers.order_by("name")]


def describe(suggestion) -> FilingMaterial:
    from suggestions.models import Status

    replies = list(suggestion.replies.select_related("unit", "answer_class").order_by("-round"))
    views = list(suggestion.co_unit_views.select_related("unit").order_by("submitted_on", "pk"))
    evaluations = list(
        suggestion.evaluations.select_related("reply", "deputy").order_by("evaluated_on", "pk")
    )
    follow_ups = list(suggestion.follow_ups.select_related("reply").order_by("followed_on", "pk"))
    consultations = list(suggestion.consultations.select_related("unit").order_by("held_on", "pk"))
    thread = list(suggestion.messages.order_by("at", "pk"))
    events = list(suggestion.events.order_by("at", "pk"))
    attachments = list(suggestion.attachments.order_by("uploaded_at", "pk"))
    lead = suggestion.lead_deputy.name
    co_signers = _deputy_names(suggestion)
    units = [d.name for d in suggestion.co_units.order_by("code")]

    files = []
    for reply in replies:
        found = _read(reply.document, f"答复-第{reply.round}次-{reply.document_name}")
        if found:
            files.append(found)
    for attachment in attachments:
        found = _read(attachment.file, f"建议附件-{attachment.name}")
        if found:
            files.append(found)
    for view in views:
        found = _read(view.document, f"协办意见-{view.unit.name}-{view.document_name}")
        if found:
            files.append(found)

    blocks = []
    for reply in replies:
        blocks += [
            Heading(f"{'再次' if reply.round == 2 else ''}书面答复（{reply.unit.name}）", 2),
            Table(
                ["项目", "内容"],
                [
                    ["答复日期", reply.answered_on.isoformat()],
                    ["答复类别", str(reply.answer_class)],
                    ["签发人", reply.signed_by],
                    ["答复文件", reply.document_name or "（无）"],
                ],
            ),
        ]
        if reply.summary:
            blocks += [Paragraph(line) for line in reply.summary.splitlines() if line.strip()]
    blocks += [
        Heading(f"{suggestion.get_kind_display()}：{suggestion.title}", 2),
        Table(
            ["项目", "内容"],
            [
                ["编号", suggestion.code],
                ["届次会次", str(suggestion.session)],
                ["提出时间", suggestion.get_period_display()],
                ["领衔代表", lead],
                ["附议代表", "、".join(co_signers) or "（无）"],
                ["分类", suggestion.category.name if suggestion.category_id else ""],
                ["提出日期", suggestion.submitted_on.isoformat()],
                ["主办单位", suggestion.lead_unit.name if suggestion.lead_unit_id else ""],
                ["协办单位", "、".join(units) or "（无）"],
                ["交办日期", suggestion.assigned_on.isoformat() if suggestion.assigned_on else ""],
                ["办结日期", suggestion.closed_on.isoformat() if suggestion.closed_on else ""],
                ["重点督办", suggestion.supervising_leader if suggestion.key_supervision else "否"],
            ],
        ),
    ]
    blocks += [Paragraph(line) for line in suggestion.content.splitlines() if line.strip()]
    if views:
        blocks += [
            Heading("协办意见", 2),
            Table(
                ["提交日期", "协办单位", "意见", "文件"],
                [[v.submitted_on.isoformat(), v.unit.name, v.text, v.document_name] for v in views],
            ),
        ]
    if evaluations:
        blocks += [
            Heading("代表评价", 2),
            Table(
                ["评价日期", "所评答复", "评价代表", "评价", "意见"],
                [
                    [
                        e.evaluated_on.isoformat(),
                        f"第{e.reply.round}次答复",
                        f"{e.deputy.name}（{'领衔' if e.is_lead else '附议'}）",
                        e.get_result_display(),
                        e.comment,
                    ]
                    for e in evaluations
                ],
            ),
        ]
    if consultations:
        blocks += [
            Heading("面商记录", 2),
            Table(
                ["面商日期", "办理单位", "形式", "参加人员", "面商情况"],
                [
                    [
                        c.held_on.isoformat(),
                        c.unit.name,
                        c.get_form_display(),
                        c.participants,
                        c.summary,
                    ]
                    for c in consultations
                ],
            ),
        ]
    if thread:
        blocks += [
            Heading("沟通记录", 2),
            Table(
                ["时间", "发言人", "身份", "内容"],
                [[local_text(m.at), m.author_name, m.capacity, m.text] for m in thread],
            ),
        ]
    if follow_ups:
        blocks += [
            Heading("跟踪落实", 2),
            Table(
                ["跟踪日期", "落实情况", "已落实"],
                [
                    [f.followed_on.isoformat(), f.progress, "是" if f.completed else "否"]
                    for f in follow_ups
                ],
            ),
        ]
    blocks += [
        Heading("办理过程", 2),
        Table(
            ["时间", "操作人", "事项", "原状态", "新状态", "说明"],
            [
                [
                    local_text(e.at),
                    e.actor_name,
                    e.label,
                    e.from_status_label,
                    e.to_status_label,
                    e.note,
                ]
                for e in events
            ],
        ),
    ]

    return FilingMaterial(
        title=f"{suggestion.title}（领衔代表{lead}）及办理答复",
        date=item_date(suggestion),
        record_type="suggestion",
        doc_number=suggestion.code,
        responsible=lead,
        files=files,
        blocks=blocks,
        metadata={
            "建议编号": suggestion.code,
            "类型": suggestion.get_kind_display(),
            "届次会次": str(suggestion.session),
            "标题": suggestion.title,
            "领衔代表": lead,
            "代表团": suggestion.lead_deputy.delegation,
            "附议代表": co_signers,
            "分类": suggestion.category.name if suggestion.category_id else "",
            "状态": Status(suggestion.status).label,
            "提出日期": suggestion.submitted_on,
            "交办日期": suggestion.assigned_on,
            "要求办结日期": suggestion.due_on,
            "办结日期": suggestion.closed_on,
            "主办单位": suggestion.lead_unit.name if suggestion.lead_unit_id else "",
            "协办单位": units,
            "答复": [
                {
                    "轮次": r.round,
                    "答复单位": r.unit.name,
                    "答复类别": str(r.answer_class),
                    "答复日期": r.answered_on,
                    "签发人": r.signed_by,
                    "答复要点": r.summary,
                    "文件": r.document_name,
                    "SHA-256": r.document_sha256,
                }
                for r in replies
            ],
            "协办意见": [
                {
                    "协办单位": v.unit.name,
                    "提交日期": v.submitted_on,
                    "意见": v.text,
                    "文件": v.document_name,
                    "SHA-256": v.document_sha256,
                }
                for v in views
            ],
            "代表评价": [
                {
                    "所评答复轮次": e.reply.round,
                    "评价代表": e.deputy.name,
                    "领衔代表评价": e.is_lead,
                    "评价": e.get_result_display(),
                    "意见": e.comment,
                    "评价日期": e.evaluated_on,
                }
                for e in evaluations
            ],
            "跟踪落实": [
                {"跟踪日期": f.followed_on, "落实情况": f.progress, "已落实": f.completed}
                for f in follow_ups
            ],
            "面商记录": [
                {
                    "面商日期": c.held_on,
                    "办理单位": c.unit.name,
                    "形式": c.get_form_display(),
                    "参加人员": c.participants,
                    "面商情况": c.summary,
                }
                for c in consultations
            ],
            "沟通记录": [
                {"时间": m.at, "发言人": m.author_name, "身份": m.capacity, "内容": m.text}
                for m in thread
            ],
            "附件": [{"文件名": a.name, "SHA-256": a.sha256, "大小": a.size} for a in attachments],
            "办理过程": [
                {
                    "时间": e.at,
                    "操作人": e.actor_name,
                    "事项": e.label,
                    "原状态": e.from_status,
                    "新状态": e.to_status,
                    "说明": e.note,
                }
                for e in events
            ],
            "排列顺序": "复文在前，来文在后：答复（后一轮在前）、建议原文、协办意见、评价、面商、沟通、跟踪、办理过程",
        },
    )


def register():
    from suggestions.models import Status, Suggestion

    register_source(
        "suggestions.suggestion",
        model=Suggestion,
        label="代表建议（已办结）",
        record_type="suggestion",
        describe=describe,
        candidates=lambda: (
            Suggestion.objects.filter(status=Status.CLOSED)
            .select_related("term", "session", "lead_deputy")
            .order_by("closed_on", "pk")
        ),
        display=str,
        url_for=lambda s: reverse("suggestions:detail", args=[s.pk]),
    )
