"""工作资料: a published briefing (简报 / 报告) as one item, and each material a department
pushed (部门报送材料) as its own item.

A briefing's originals are its stored DOCX and PDF renditions (the newest of each kind);
the PDF is stamped as it is, else the DOCX is converted, else the rendition is made from
the body. Both kinds use the record type ``briefing`` (工作资料与简报) of the retention table.
"""

from pathlib import Path

from archive.sources import FilingMaterial, Heading, Paragraph, Table, register_source

from .common import local_date, local_text, office_name
from .policies import RENDERABLE


def _body_blocks(page) -> list:
    """The body as archive blocks (the same reading of the StreamField as the DOCX)."""
    from briefings import officialdoc
    from briefings.renditions import document_blocks

    blocks = []
    for block in document_blocks(page):
        if isinstance(block, officialdoc.Heading):
            blocks.append(Heading(block.text, 2))
        elif isinstance(block, officialdoc.Paragraph):
            blocks.append(Paragraph(block.text))
        elif isinstance(block, officialdoc.Table):
            if block.title:
                blocks.append(Paragraph(block.title))
            blocks.append(Table(list(block.headers), [list(r) for r in block.rows]))
        elif isinstance(block, officialdoc.Image):
            blocks.append(Paragraph(f"〔图片〕{block.caption}".strip()))
    return blocks


def _renditions(page) -> list[tuple[str, bytes, object]]:
    from briefings.choices import RenditionKind
    from briefings.renditions import current_rendition

    found = []
    for kind in (RenditionKind.PDF, RenditionKind.DOCX):
        rendition = current_rendition(page, kind)
        if rendition is None or not rendition.file:
            continue
        try:
            with rendition.file.open("rb") as handle:
                found.append((rendition.filename, handle.read(), rendition))
        except OSError:
            continue  # missing on disk: the rendition is made from the body instead
    return found


def briefing_date(page):
    """日期 = the publication date (the day the head signed it off and it went out)."""
    return local_date(page.first_published_at) or local_date(page.last_published_at)


def describe_briefing(page) -> FilingMaterial:
    renditions = _renditions(page)
    blocks = [
        Table(
            ["项目", "内容"],
            [
                ["期号", page.issue_label if page.issue_number else "（不编期号）"],
                ["资料类型", page.material_type.name],
                ["年度与期间", f"{page.year}年 {page.period_label}".strip()],
                ["编印单位", page.editor],
                ["发布日期", briefing_date(page).isoformat()],
                ["印送", "、".join(page.recipient_names()) or "（无）"],
                ["印数", page.print_count],
            ],
        )
    ]
    if page.editor_note:
        blocks += [Heading("编者按", 2), Paragraph(page.editor_note)]
    blocks += _body_blocks(page)
    events = list(page.events.select_related("actor").order_by("at", "pk"))
    blocks += [
        Heading("签发与发布记录", 2),
        Table(
            ["时间", "操作人", "事项", "说明"],
            [
                [local_text(e.at), e.actor.get_username() if e.actor else "系统", e.action, e.note]
                for e in events
            ],
        ),
    ]
    return FilingMaterial(
        title=page.title,
        date=briefing_date(page),
        record_type="briefing",
        doc_number=page.issue_label if page.issue_number else "",
        responsible=page.editor or office_name(),
        files=[(name, data) for name, data, _ in renditions],
        blocks=blocks,
        rendition_from=renditions[0][0] if renditions else None,
        metadata={
            "页面编号": page.pk,
            "网址": page.url or "",
            "期号": page.issue_label if page.issue_number else "",
            "资料类型": page.material_type.name,
            "年度": page.year,
            "期间": page.period,
            "期间说明": page.period_label,
            "编印单位": page.editor,
            "编者按": page.editor_note,
            "印送": page.recipient_names(),
            "印数": page.print_count,
            "首次发布时间": page.first_published_at,
            "最近发布时间": page.last_published_at,
            "版本": page.live_revision_id,
            "文件": [
                {
                    "文件名": name,
                    "格式": r.kind,
                    "版本": r.revision_id,
                    "SHA-256": r.sha256,
                    "大小": r.size,
                }
                for name, _, r in renditions
            ],
            "记录": [
                {
                    "时间": e.at,
                    "操作人": e.actor.get_username() if e.actor else "系统",
                    "事项": e.action,
                    "说明": e.note,
                }
                for e in events
            ],
        },
    )


def describe_upload(upload) -> FilingMaterial:
    files = []
    try:
        with upload.file.open("rb") as handle:
            files.append((upload.filename or Path(upload.file.name).name, handle.read()))
    except OSError:
        pass  # the extracted text below still makes a rendition
    name = files[0][0] if files else ""
    item = upload.item
    blocks = [
        Table(
            ["项目", "内容"],
            [
                ["报送单位", upload.department.name],
                ["报送事项", item.title],
                ["截止日期", item.due_date.isoformat()],
                ["上传时间", local_text(upload.uploaded_at)],
                ["逾期报送", "是" if upload.is_late else "否"],
                ["原文件", upload.filename],
                ["SHA-256", upload.sha256],
            ],
        )
    ]
    if upload.text:
        blocks.append(Heading("正文（提取文本）", 2))
        blocks += [Paragraph(line) for line in upload.text.splitlines() if line.strip()]
    return FilingMaterial(
        title=upload.title,
        date=local_date(upload.uploaded_at),
        record_type="briefing",
        responsible=upload.department.name,
        files=files,
        blocks=blocks,
        rendition_from=name if name.lower().endswith(RENDERABLE) else None,
        metadata={
            "材料编号": upload.pk,
            "报送单位": upload.department.name,
            "单位编码": upload.department.code,
            "报送事项": item.title,
            "资料类型": item.material_type.name,
            "年度": item.year,
            "期间": item.period,
            "截止日期": item.due_date,
            "上传时间": upload.uploaded_at,
            "逾期报送": upload.is_late,
            "原文件名": upload.filename,
            "SHA-256": upload.sha256,
        },
    )


def register():
    from briefings.models import BriefingPage, DepartmentUpload

    register_source(
        "briefings.briefingpage",
        model=BriefingPage,
        label="工作资料（已发布的简报、报告）",
        record_type="briefing",
        describe=describe_briefing,
        candidates=lambda: (
            BriefingPage.objects.live()
            .select_related("material_type")
            .order_by("first_published_at", "pk")
        ),
        display=lambda page: (
            f"{page.issue_label} {page.title}" if page.issue_number else page.title
        ),
        url_for=lambda page: page.url or "",
    )
    register_source(
        "briefings.departmentupload",
        model=DepartmentUpload,
        label="部门报送材料",
        record_type="briefing",
        describe=describe_upload,
        candidates=lambda: (
            DepartmentUpload.objects.select_related("department", "item")
            .exclude(file="")
            .order_by("uploaded_at", "pk")
        ),
        display=lambda u: f"{u.department.name} {u.title}",
        url_for=lambda u: u.get_absolute_url(),
    )
