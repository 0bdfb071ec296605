"""归档文件目录: the catalogue of one year, retention period and class, in the nine
columns of DA/T 22-2015, as rows and as XLSX / DOCX / PDF files."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.conf import settings
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.shared import Mm, Pt

from cms.usage.exports import ExportFile, export_filename, xlsx_export

from .models import ArchiveItem, Retention
from .rendition import _set_cjk_font, convert_to_pdf

HEADERS = ["序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注"]
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class CatalogueKey:
    year: int
    retention: str
    class_code: str

    @property
    def title(self) -> str:
        return f"归档文件目录 {self.year}年 {Retention(self.retention).label} {self.class_code}"


def groups() -> list[tuple[CatalogueKey, int]]:
    """Every (year, retention, class) that has filed items, with the item count."""
    from django.db.models import Count

    rows = (
        ArchiveItem.objects.filed()
        .values("year", "retention", "class_code")
        .annotate(n=Count("pk"))
        .order_by("-year", "retention", "class_code")
    )
    return [(CatalogueKey(r["year"], r["retention"], r["class_code"]), r["n"]) for r in rows]


def items(key: CatalogueKey):
    return (
        ArchiveItem.objects.filed()
        .filter(year=key.year, retention=key.retention, class_code=key.class_code)
        .order_by("sequence")
    )


def rows(key: CatalogueKey) -> list[list]:
    return [
        [
            index,
            item.item_number,
            item.doc_number,
            item.responsible,
            item.title,
            item.date_digits,
            item.classification or "",
            item.page_count,
            item.remarks,
        ]
        for index, item in enumerate(items(key), start=1)
    ]


def as_xlsx(key: CatalogueKey) -> ExportFile:
    return xlsx_export(key.title, HEADERS, rows(key))


def as_docx(key: CatalogueKey) -> ExportFile:
    document = Document()
    _set_cjk_font(document)
    from briefings.officialdoc import set_office_properties

    set_office_properties(document, key.title, settings.ARCHIVE_OFFICE_NAME, subject="归档文件目录")
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)  # A4 landscape, not Letter
    section.left_margin = section.right_margin = Pt(36)
    document.add_heading("归档文件目录", level=0)
    document.add_paragraph(key.title.removeprefix("归档文件目录 "))
    data = rows(key)
    table = document.add_table(rows=1, cols=len(HEADERS))
    table.style = "Table Grid"
    for cell, header in zip(table.rows[0].cells, HEADERS, strict=True):
        cell.text = header
    for row in data:
        for cell, value in zip(table.add_row().cells, row, strict=True):
            cell.text = str(value)
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(9)
    buffer = io.BytesIO()
    document.save(buffer)
    return ExportFile(
        filename=export_filename(key.title, "docx"),
        content=buffer.getvalue(),
        content_type=DOCX_TYPE,
        rows=len(data),
    )


def as_pdf(key: CatalogueKey) -> ExportFile:
    docx = as_docx(key)
    (pdf,) = convert_to_pdf([("catalogue.docx", docx.content)])
    return ExportFile(
        filename=export_filename(key.title, "pdf"),
        content=pdf,
        content_type="application/pdf",
        rows=docx.rows,
    )
