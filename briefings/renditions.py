"""DOCX and PDF renditions of a published briefing, made with briefings.officialdoc.

A rendition is built completely in memory and stored only when whole (file, then row, in one
transaction; the file is removed if the row cannot be written), with its SHA-256.
"""

from __future__ import annotations

import hashlib
import html
import re

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from budget.blocks import CitedFigureBlock

from . import officialdoc
from .choices import RenditionKind, RenditionStatus
from .models import BriefingEvent, BriefingPage, BriefingRendition, SimpleTableBlock


def masthead() -> str:
    return getattr(settings, "BRIEFINGS_MASTHEAD", "预算联网监督简报")


def _paragraphs_of(rich_html: str) -> list[str]:
    text = re.sub(r"</(p|li|h\d)>|<br\s*/?>", "\n", str(rich_html))
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return [line.strip() for line in text.splitlines() if line.strip()]


def _figure_text(block, value, page) -> str:
    from budget.figures import FigureSpecError, render_figure

    try:
        spec = block.spec_of(value)
    except FigureSpecError as error:
        return f"（数据引用有误：{error}）"
    figure = render_figure(spec, value.get("mode") or "frozen", page=page, label=value.get("label"))
    return f"{figure.label}（{spec.period_label}）：{figure.display}"


def document_blocks(page: BriefingPage) -> list:
    blocks = []
    for child in page.body:
        kind, value = child.block_type, child.value
        if kind == "heading":
            blocks.append(officialdoc.Heading(str(value), 1))
        elif kind == "paragraph":
            blocks += [officialdoc.Paragraph(p) for p in _paragraphs_of(value.source)]
        elif kind == "table":
            headers, rows = SimpleTableBlock.split(value)
            blocks.append(officialdoc.Table(headers, rows, value.get("title") or ""))
            if value.get("note"):
                blocks.append(officialdoc.Paragraph(f"注：{value['note']}"))
        elif kind == "image":
            image = value.get("image")
            if image is not None:
                blocks.append(officialdoc.Image(image.file.path, value.get("caption") or ""))
        elif isinstance(child.block, CitedFigureBlock):  # any source's figure block
            blocks.append(officialdoc.Paragraph(_figure_text(child.block, value, page)))
    return blocks


def publication_date(page: BriefingPage):
    when = page.first_published_at or timezone.now()
    return timezone.localtime(when).date()


def build_docx(page: BriefingPage) -> bytes:
    blocks = document_blocks(page)
    if page.material_type.is_briefing_issue:
        doc = officialdoc.BriefingDocument(
            masthead=masthead(),
            year=page.issue_year or publication_date(page).year,
            issue_number=page.issue_number or 0,
            editor=page.editor,
            date=publication_date(page),
            editor_note=page.editor_note,
            blocks=blocks,
            recipients=page.recipient_names(),
            print_count=page.print_count,
            title=page.title,
        )
        return officialdoc.render_briefing_docx(doc)
    doc = officialdoc.ReportDocument(
        title=page.title,
        issuer=page.editor,
        recipients=page.recipient_names(),
        date=publication_date(page),
        blocks=blocks,
    )
    return officialdoc.render_report_docx(doc)


def _store(page, revision_id, kind, data: bytes) -> BriefingRendition:
    digest = hashlib.sha256(data).hexdigest()
    rendition = BriefingRendition(
        page=page,
        revision_id=revision_id,
        kind=kind,
        status=RenditionStatus.OK,
        sha256=digest,
        size=len(data),
    )
    name = f"briefing-{page.pk}-{revision_id or 0}-{digest[:12]}.{kind}"
    rendition.file.save(name, ContentFile(data), save=False)
    try:
        with transaction.atomic():
            rendition.save()
            BriefingEvent.objects.create(
                page=page, action="生成文件", note=f"{kind.upper()} SHA-256 {digest[:16]}…"
            )
    except Exception:
        rendition.file.delete(save=False)
        raise
    return rendition


def record_failure(page, revision_id, kind, message: str, attempts: int) -> BriefingRendition:
    with transaction.atomic():
        row = BriefingRendition.objects.create(
            page=page,
            revision_id=revision_id,
            kind=kind,
            status=RenditionStatus.FAILED,
            error=message,
            attempts=attempts,
        )
        BriefingEvent.objects.create(page=page, action="生成文件失败", note=message)
    return row


def current_rendition(page, kind):
    return (
        BriefingRendition.objects.filter(page=page, kind=kind, status=RenditionStatus.OK)
        .order_by("-created_at", "-pk")
        .first()
    )


def render_docx(page: BriefingPage, revision_id=None) -> BriefingRendition:
    """Store the DOCX of the page's live content (raises officialdoc.RenditionError)."""
    existing = BriefingRendition.objects.filter(
        page=page, kind=RenditionKind.DOCX, status=RenditionStatus.OK, revision_id=revision_id
    ).first()
    data = build_docx(page)
    if existing is not None and existing.sha256 == hashlib.sha256(data).hexdigest():
        return existing
    return _store(page, revision_id, RenditionKind.DOCX, data)


def render_pdf(page: BriefingPage, docx: BriefingRendition) -> BriefingRendition:
    with docx.file.open("rb") as handle:
        data = handle.read()
    pdf = officialdoc.docx_to_pdf(data)
    return _store(page, docx.revision_id, RenditionKind.PDF, pdf)
