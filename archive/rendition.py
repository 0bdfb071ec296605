"""The fixed rendition (版式文件) of an item: a PDF with the 归档章 on its first page.

Content comes from a source's blocks (a DOCX built with python-docx), from an original
office document, or from an original PDF as it is. LibreOffice converts to PDF; the
stamp is its own one-page PDF (same page size) merged over the first page with pypdf,
so the 页数 on the stamp is the real page count of the content.

Several items are rendered with one LibreOffice start (it is the slow part).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

from .sources import FilingMaterial, Heading, Paragraph, Table

CJK_FONT = "Noto Serif CJK SC"
OFFICE_SUFFIXES = {".doc", ".docx", ".odt", ".rtf", ".wps", ".xls", ".xlsx", ".ods", ".txt"}


class RenditionError(Exception):
    """Why no rendition could be made, in Chinese for the archivist."""


@dataclass(frozen=True)
class StampFields:
    """归档章: 全宗号, 年度, 件号 / 机构(问题), 保管期限, 页数."""

    fonds_code: str
    year: int
    sequence: int
    class_code: str
    retention_label: str


@dataclass
class RenditionJob:
    material: FilingMaterial
    stamp: StampFields


@dataclass
class Rendition:
    pdf: bytes
    page_count: int


def soffice_command() -> str:
    """The LibreOffice binary, or a clear refusal before anything is filed."""
    name = getattr(settings, "ARCHIVE_SOFFICE", "soffice")
    found = shutil.which(name)
    if not found:
        raise RenditionError(
            "服务器未安装 LibreOffice（找不到 soffice 命令），无法生成带归档章的版式文件，"
            "本次没有归档任何材料。请联系系统管理员安装 LibreOffice 后再归档。"
        )
    return found


def convert_to_pdf(documents: list[tuple[str, bytes]]) -> list[bytes]:
    """Convert office documents to PDF with one LibreOffice run, in order."""
    if not documents:
        return []
    binary = soffice_command()
    timeout = int(getattr(settings, "ARCHIVE_SOFFICE_TIMEOUT", 180))
    with tempfile.TemporaryDirectory(prefix="archive-render-") as tmp:
        work = Path(tmp)
        inputs = []
        for index, (name, data) in enumerate(documents):
            suffix = Path(name).suffix.lower() or ".docx"
            path = work / f"doc{index:04d}{suffix}"
            path.write_bytes(data)
            inputs.append(path)
        # Its own profile: concurrent LibreOffice runs sharing one profile block each other.
        command = [
            binary,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(work / "out"),
            *map(str, inputs),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise RenditionError(
                f"LibreOffice 在 {timeout} 秒内没有完成版式转换，本次未能生成归档文件，请稍后重试。"
            ) from None
        results = []
        for path, (name, _data) in zip(inputs, documents, strict=True):
            out = work / "out" / f"{path.stem}.pdf"
            if not out.exists() or out.stat().st_size == 0:
                raise RenditionError(f"LibreOffice 未能把“{name}”转换为 PDF，请检查该文件。")
            results.append(out.read_bytes())
        return results


# --- DOCX builders ------------------------------------------------------------------------


def _set_cjk_font(document):
    style = document.styles["Normal"]
    style.font.name = CJK_FONT
    style.font.size = Pt(11)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), CJK_FONT)


def blocks_docx(material: FilingMaterial) -> bytes:
    document = Document()
    _set_cjk_font(document)
    document.add_heading(material.title, level=0)
    facts = [
        ("文号", material.doc_number),
        ("责任者", material.responsible),
        ("日期", material.date.strftime("%Y年%m月%d日")),
    ]
    document.add_paragraph("；".join(f"{label}：{value}" for label, value in facts if value))
    for block in material.blocks:
        if isinstance(block, Heading):
            document.add_heading(block.text, level=min(max(block.level, 1), 3))
        elif isinstance(block, Paragraph):
            document.add_paragraph(block.text)
        elif isinstance(block, Table):
            table = document.add_table(rows=1, cols=len(block.headers))
            table.style = "Table Grid"
            for cell, header in zip(table.rows[0].cells, block.headers, strict=True):
                cell.text = str(header)
            for row in block.rows:
                cells = table.add_row().cells
                for cell, value in zip(cells, row, strict=False):
                    cell.text = "" if value is None else str(value)
    if material.files:
        document.add_heading("原件", level=2)
        for name, data in material.files:
            document.add_paragraph(f"{name}（{len(data)} 字节）")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def stamp_docx(stamp: StampFields, pages: int, width_pt: float, height_pt: float) -> bytes:
    """A page of the given size with only the 归档章 in its top right corner, kept small
    so that it sits in the top margin of most documents."""
    document = Document()
    _set_cjk_font(document)
    section = document.sections[0]
    section.page_width = Pt(width_pt)
    section.page_height = Pt(height_pt)
    section.top_margin = Pt(8)
    section.right_margin = Pt(14)
    section.left_margin = Pt(14)
    section.bottom_margin = Pt(8)
    cells = [
        [
            ("全宗号", stamp.fonds_code),
            ("年度", str(stamp.year)),
            ("件号", f"{stamp.sequence:04d}"),
        ],
        [
            ("机构(问题)", stamp.class_code),
            ("保管期限", stamp.retention_label),
            ("页数", str(pages)),
        ],
    ]
    column = 66  # points
    table = document.add_table(rows=2, cols=3)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.RIGHT
    table.autofit = False
    grid = table._tbl.tblGrid
    for col in grid.findall(qn("w:gridCol")):
        col.set(qn("w:w"), str(column * 20))
    width = table._tbl.tblPr.find(qn("w:tblW"))
    if width is None:
        width = OxmlElement("w:tblW")
        table._tbl.tblPr.append(width)
    width.set(qn("w:type"), "dxa")
    width.set(qn("w:w"), str(column * 3 * 20))
    for row, values in zip(table.rows, cells, strict=True):
        for cell, (label, value) in zip(row.cells, values, strict=True):
            cell.width = Pt(column)
            paragraph = cell.paragraphs[0]
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            paragraph.paragraph_format.space_before = Pt(0)
            paragraph.paragraph_format.space_after = Pt(0)
            paragraph.paragraph_format.line_spacing = 1.0
            small = paragraph.add_run(label + " ")
            small.font.size = Pt(5.5)
            big = paragraph.add_run(value)
            big.font.size = Pt(8)
            big.bold = True
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- putting it together --------------------------------------------------------------------


def _read_pdf(name: str, data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise RenditionError(f"“{name}”是加密的 PDF，无法加盖归档章，请提供未加密的文件。")
        if not reader.pages:
            raise RenditionError(f"“{name}”没有页面，无法生成版式文件。")
        return reader
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise RenditionError(f"“{name}”不是可读的 PDF 文件（{exc.__class__.__name__}）。") from exc


def _content_document(job: RenditionJob) -> tuple[str, bytes]:
    """(name, bytes) of what to render: an original PDF/office file, or the blocks' DOCX."""
    material = job.material
    if material.rendition_from:
        for name, data in material.files:
            if name == material.rendition_from:
                return name, data
        raise RenditionError(f"来源材料中没有要转换的原件“{material.rendition_from}”。")
    return "rendition.docx", blocks_docx(material)


def render(jobs: list[RenditionJob]) -> list[Rendition]:
    """Render and stamp every job; two LibreOffice runs however many jobs."""
    soffice_command()
    contents = [_content_document(job) for job in jobs]
    to_convert = [
        (i, name, data)
        for i, (name, data) in enumerate(contents)
        if Path(name).suffix.lower() != ".pdf"
    ]
    for name, _data in contents:
        suffix = Path(name).suffix.lower()
        if suffix != ".pdf" and suffix not in OFFICE_SUFFIXES:
            raise RenditionError(f"“{name}”的格式无法转换为版式文件。")
    converted = convert_to_pdf([(name, data) for _i, name, data in to_convert])
    pdfs = [data for _name, data in contents]
    for (i, _name, _data), pdf in zip(to_convert, converted, strict=True):
        pdfs[i] = pdf
    readers = [_read_pdf(contents[i][0], pdf) for i, pdf in enumerate(pdfs)]

    stamps = []
    for job, reader in zip(jobs, readers, strict=True):
        box = reader.pages[0].mediabox
        stamps.append(
            (
                "stamp.docx",
                stamp_docx(job.stamp, len(reader.pages), float(box.width), float(box.height)),
            )
        )
    stamp_pdfs = convert_to_pdf(stamps)

    results = []
    for reader, stamp_pdf in zip(readers, stamp_pdfs, strict=True):
        writer = PdfWriter()
        writer.append(reader)
        first = writer.pages[0]
        box = first.mediabox
        stamp_page = PdfReader(io.BytesIO(stamp_pdf)).pages[0]
        if box.left or box.bottom:
            from pypdf import Transformation

            first.merge_transformed_page(
                stamp_page, Transformation().translate(float(box.left), float(box.bottom))
            )
        else:
            first.merge_page(stamp_page)
        buffer = io.BytesIO()
        writer.write(buffer)
        results.append(Rendition(pdf=buffer.getvalue(), page_count=len(reader.pages)))
    return results
