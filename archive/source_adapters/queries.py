"""查询申请登记: an answered (or archived) query request with its answer file and handling."""

from pathlib import Path

from django.urls import reverse

from archive.sources import FilingMaterial, Heading, Paragraph, Table, register_source

from .common import local_date, local_text, office_name


def describe(item) -> FilingMaterial:
    events = list(item.events.order_by("at", "pk"))
    files = []
    if item.answer_file:
        with item.answer_file.open("rb") as handle:
            files.append((item.answer_file_name or Path(item.answer_file.name).name, handle.read()))
    rows = [
        ["提出方", f"{item.get_requester_kind_display()} {item.requester_name}"],
        ["收到日期", item.received_on.isoformat()],
        ["答复期限", item.due_on.isoformat()],
        ["答复时间", local_text(item.answered_at)],
        ["导出备案", "、".join(f"{e.pk} {e.filename}" for e in item.exports.all()) or "（无）"],
    ]
    blocks = [Table(["项目", "内容"], rows), Heading("查询内容", 2), Paragraph(item.question)]
    blocks += [Heading("答复", 2)] + [Paragraph(x) for x in item.answer.splitlines() if x.strip()]
    blocks += [
        Heading("办理经过", 2),
        Table(
            ["时间", "操作人", "事项", "说明"],
            [[local_text(e.at), e.actor_name, e.action, e.note] for e in events],
        ),
    ]
    return FilingMaterial(
        title=f"查询申请及答复：{item.subject}",
        date=local_date(item.answered_at) or item.received_on,
        record_type="query_request",
        responsible=office_name(),
        files=files,
        blocks=blocks,
        metadata={
            "查询申请编号": item.pk,
            "状态": item.status,
            "答复文件SHA-256": item.answer_sha256,
        },
    )


def register():
    from supervision.query_models import QueryRequest

    register_source(
        "supervision.queryrequest",
        model=QueryRequest,
        label="查询申请登记（已答复）",
        record_type="query_request",
        describe=describe,
        candidates=lambda: QueryRequest.objects.filter(
            status__in=("answered", "archived")
        ).order_by("answered_at", "pk"),
        display=lambda item: item.subject,
        url_for=lambda item: reverse("supervision:query", args=[item.pk]),
    )
