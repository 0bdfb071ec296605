"""Official-format documents (公文) as DOCX, and their PDF rendition.

Two layouts:

* the 简报 layout — red masthead, 第×期, editor left / date right over a red rule, optional
  编者按, body, and a foot with 印送 recipients and 共印×份;
* the GB/T 9704-2012 layout for reports and letters — A4, top margin 37 mm, left 28 mm, text
  block 156 × 225 mm, 22 lines × 28 characters, 发文字号, title 2号 小标宋, body 3号 仿宋,
  主送, dates without leading zeros, page numbers "— 1 —" in 4号宋体, 抄送 in the 版记.

Chinese fonts are set through ``w:eastAsia`` on every run's ``w:rFonts`` and in the styles: Word
and LibreOffice pick the font for Han characters from that attribute, not from ``font.name``.

``docx_to_pdf`` converts with LibreOffice headless in a temporary directory with its own user
profile, so two conversions running at the same time do not share (and lock) one profile.
"""

from __future__ import annotations

import datetime
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from django.conf import settings
from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

__all__ = [
    "BriefingDocument",
    "Heading",
    "Image",
    "Paragraph",
    "RenditionError",
    "ReportDocument",
    "Table",
    "docx_to_pdf",
    "format_chinese_date",
    "render_briefing_docx",
    "render_report_docx",
]


# ---------------------------------------------------------------------------
# Content blocks and documents


@dataclass
class Heading:
    """A heading. Level 1 → "一、" 黑体, level 2 → "（一）" 楷体, level 3 → "1." 仿宋.

    The number is added unless the text already starts with one of that level's shape.
    """

    text: str
    level: int = 1


@dataclass
class Paragraph:
    """Body text; a line break in ``text`` starts a new paragraph."""

    text: str


@dataclass
class Table:
    headers: list
    rows: list
    title: str = ""


@dataclass
class Image:
    path: str
    caption: str = ""


@dataclass
class BriefingDocument:
    """One issue of a 简报."""

    masthead: str
    year: int
    issue_number: int
    editor: str
    date: datetime.date
    editor_note: str = ""
    blocks: list = field(default_factory=list)
    recipients: list = field(default_factory=list)
    print_count: int = 0
    title: str = ""  # the issue's own title, set under the masthead block in 二号 小标宋


@dataclass
class ReportDocument:
    """A report or letter in the GB/T 9704 layout.

    ``recipients`` is the 主送 list, ``cc`` the 抄送 list, ``attachments`` the names of the 附件.
    ``letterhead`` (optional) prints the 发文机关标志 in red over a red rule, as in the 信函格式.
    """

    title: str
    issuer: str
    recipients: list
    date: datetime.date
    blocks: list
    doc_number: str = ""
    cc: list = field(default_factory=list)
    attachments: list = field(default_factory=list)
    letterhead: str = ""


class RenditionError(Exception):
    """A document could not be rendered; the message is for the user (Chinese)."""


# ---------------------------------------------------------------------------
# Layout constants (GB/T 9704-2012 and the customary 简报 layout)

# 字号 in points: 初号 42, 小初 36, 一号 26, 二号 22, 三号 16, 四号 14, 小四 12.
SIZE_TITLE = Pt(22)  # 二号
SIZE_BODY = Pt(16)  # 三号
SIZE_PAGE_NUMBER = Pt(14)  # 四号
SIZE_FOOT = Pt(14)  # 四号, 版记 and 简报 foot
SIZE_TABLE = Pt(12)  # 小四
SIZE_MASTHEAD = Pt(42)  # 初号

FONT_FANGSONG = "仿宋"
FONT_HEITI = "黑体"
FONT_KAITI = "楷体"
FONT_SONGTI = "宋体"
FONT_XIAOBIAOSONG = "方正小标宋简体"

RED = RGBColor(0xFF, 0x00, 0x00)
RED_HEX = "FF0000"

PAGE_WIDTH_MM = 210
PAGE_HEIGHT_MM = 297
MARGIN_TOP_MM = 37
MARGIN_LEFT_MM = 28
TEXT_WIDTH_MM = 156
TEXT_HEIGHT_MM = 225
LINES_PER_PAGE = 22
CHARS_PER_LINE = 28

_MM_TO_PT = 72 / 25.4
# 225 mm / 22 lines ≈ 28.99 pt → 28.95 pt: the fixed line spacing that gives exactly 22 lines a page.
# Rounded down to 1/20 pt (Word's unit) so the 22nd line never spills onto the next page.
LINE_PITCH_PT = math.floor(TEXT_HEIGHT_MM * _MM_TO_PT / LINES_PER_PAGE * 20) / 20
# 156 mm / 28 characters ≈ 15.79 pt a character.
CHAR_PITCH_PT = TEXT_WIDTH_MM * _MM_TO_PT / CHARS_PER_LINE

_CHINESE_DIGITS = "零一二三四五六七八九"


def _title_font() -> str:
    return getattr(settings, "OFFICIALDOC_TITLE_FONT", FONT_XIAOBIAOSONG)


def _title_font_fallback() -> str:
    return getattr(settings, "OFFICIALDOC_TITLE_FONT_FALLBACK", FONT_SONGTI)


# ---------------------------------------------------------------------------
# Small helpers


def format_chinese_date(date) -> str:
    """ "2026年3月8日": Arabic numerals, no leading zeros (GB/T 9704 成文日期)."""
    if isinstance(date, str):
        date = datetime.date.fromisoformat(date)
    return f"{date.year}年{date.month}月{date.day}日"


def chinese_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九 (heading numbers)."""
    if n <= 0:
        raise ValueError("编号必须为正整数")
    if n < 10:
        return _CHINESE_DIGITS[n]
    if n < 100:
        tens, units = divmod(n, 10)
        head = "" if tens == 1 else _CHINESE_DIGITS[tens]
        return head + "十" + (_CHINESE_DIGITS[units] if units else "")
    return str(n)


_HEADING_PREFIX = {
    1: re.compile(r"^[一二三四五六七八九十]+、"),
    2: re.compile(r"^[（(][一二三四五六七八九十]+[）)]"),
    3: re.compile(r"^\d+[.．、]"),
}


def _set_run_font(run, font_name, size=None, bold=None, color=None):
    """Font for Latin and Han text alike: ascii, hAnsi and eastAsia all set."""
    run.font.name = font_name
    rpr = run._element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), font_name)
    if size is not None:
        run.font.size = size
    if bold is not None:
        run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color


def _set_style_font(style, font_name, size):
    style.font.name = font_name
    style.font.size = size
    rpr = style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), font_name)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def _fixed_spacing(paragraph, pitch_pt=None, before=0, after=0):
    fmt = paragraph.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(pitch_pt or LINE_PITCH_PT)
    fmt.space_before = Pt(before)
    fmt.space_after = Pt(after)


def _border(paragraph, side: str, color: str, size_eighths: int = 12, space: int = 1):
    """A paragraph border (``side`` is top or bottom); a red rule is a red bottom border."""
    ppr = paragraph._p.get_or_add_pPr()
    pbdr = ppr.find(qn("w:pBdr"))
    if pbdr is None:
        pbdr = OxmlElement("w:pBdr")
        ppr.append(pbdr)
    edge = OxmlElement(f"w:{side}")
    edge.set(qn("w:val"), "single")
    edge.set(qn("w:sz"), str(size_eighths))
    edge.set(qn("w:space"), str(space))
    edge.set(qn("w:color"), color)
    pbdr.append(edge)


def _add_text(doc, text, font=FONT_FANGSONG, size=SIZE_BODY, bold=False, color=None,
              align=None, first_line_chars=0, left_chars=0, right_chars=0, pitch=None):  # fmt: skip
    paragraph = doc.add_paragraph()
    _fixed_spacing(paragraph, pitch)
    if align is not None:
        paragraph.alignment = align
    fmt = paragraph.paragraph_format
    if first_line_chars:
        fmt.first_line_indent = Pt(size.pt * first_line_chars)
    if left_chars:
        fmt.left_indent = Pt(size.pt * left_chars)
    if right_chars:
        fmt.right_indent = Pt(size.pt * right_chars)
    if text:
        _set_run_font(paragraph.add_run(text), font, size, bold, color)
    return paragraph


def _page_setup(doc):
    """A4, GB/T 9704 margins, 22 × 28 character grid, even/odd page numbers."""
    section = doc.sections[0]
    section.page_width = Mm(PAGE_WIDTH_MM)
    section.page_height = Mm(PAGE_HEIGHT_MM)
    section.top_margin = Mm(MARGIN_TOP_MM)
    section.left_margin = Mm(MARGIN_LEFT_MM)
    section.right_margin = Mm(PAGE_WIDTH_MM - MARGIN_LEFT_MM - TEXT_WIDTH_MM)  # 26 mm
    section.bottom_margin = Mm(PAGE_HEIGHT_MM - MARGIN_TOP_MM - TEXT_HEIGHT_MM)  # 35 mm
    section.header_distance = Mm(15)
    # The page number's dash line sits 7 mm under the text block (版心).
    section.footer_distance = Mm(PAGE_HEIGHT_MM - MARGIN_TOP_MM - TEXT_HEIGHT_MM - 7 - 5)
    section.start_type = WD_SECTION.NEW_PAGE

    sect_pr = section._sectPr
    grid = sect_pr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect_pr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE_PITCH_PT * 20)))  # twentieths of a point
    # charSpace: the character pitch's difference from the default font size, in 1/4096 pt.
    grid.set(qn("w:charSpace"), str(round((CHAR_PITCH_PT - SIZE_BODY.pt) * 4096)))

    _document_defaults(doc)
    styles = doc.styles
    _set_style_font(styles["Normal"], FONT_FANGSONG, SIZE_BODY)
    normal_fmt = styles["Normal"].paragraph_format
    normal_fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal_fmt.line_spacing = Pt(LINE_PITCH_PT)
    normal_fmt.space_before = Pt(0)
    normal_fmt.space_after = Pt(0)
    for name in ("Header", "Footer", "Table Grid"):
        if name in [s.name for s in styles]:
            _set_style_font(styles[name], FONT_SONGTI if name != "Table Grid" else FONT_FANGSONG,
                            SIZE_PAGE_NUMBER if name == "Footer" else SIZE_TABLE)  # fmt: skip
    _page_numbers(doc, section)
    return section


def _document_defaults(doc):
    """docDefaults: 仿宋 3号, zh-CN, no paragraph spacing (the grid's pitch derives from them)."""
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for child in list(rpr):
        rpr.remove(child)
    rfonts = OxmlElement("w:rFonts")
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), FONT_FANGSONG)
    rpr.append(rfonts)
    for tag in ("w:sz", "w:szCs"):
        size = OxmlElement(tag)
        size.set(qn("w:val"), str(int(SIZE_BODY.pt * 2)))
        rpr.append(size)
    # Condense each character so 28 of them fill the 156 mm line (156 mm / 28 ≈ 15.79 pt).
    condense = OxmlElement("w:spacing")
    condense.set(qn("w:val"), str(math.floor((CHAR_PITCH_PT - SIZE_BODY.pt) * 20)))
    rpr.append(condense)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    rpr.append(lang)
    ppr_default = defaults.find(qn("w:pPrDefault"))
    if ppr_default is not None:
        ppr = ppr_default.find(qn("w:pPr"))
        spacing = ppr.find(qn("w:spacing"))
        if spacing is not None:
            ppr.remove(spacing)


def _page_number_paragraph(paragraph, align):
    """ "— PAGE —" in 4号宋体; odd pages right, even pages left, one character in from the edge."""
    paragraph.alignment = align
    fmt = paragraph.paragraph_format
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        fmt.right_indent = Pt(SIZE_PAGE_NUMBER.pt)
    else:
        fmt.left_indent = Pt(SIZE_PAGE_NUMBER.pt)
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    _set_run_font(paragraph.add_run("— "), FONT_SONGTI, SIZE_PAGE_NUMBER)
    begin = paragraph.add_run()
    _set_run_font(begin, FONT_SONGTI, SIZE_PAGE_NUMBER)
    fld_begin = OxmlElement("w:fldChar")
    fld_begin.set(qn("w:fldCharType"), "begin")
    begin._r.append(fld_begin)
    instr_run = paragraph.add_run()
    _set_run_font(instr_run, FONT_SONGTI, SIZE_PAGE_NUMBER)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    instr_run._r.append(instr)
    sep_run = paragraph.add_run()
    sep = OxmlElement("w:fldChar")
    sep.set(qn("w:fldCharType"), "separate")
    sep_run._r.append(sep)
    _set_run_font(paragraph.add_run("1"), FONT_SONGTI, SIZE_PAGE_NUMBER)
    end_run = paragraph.add_run()
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    end_run._r.append(end)
    _set_run_font(paragraph.add_run(" —"), FONT_SONGTI, SIZE_PAGE_NUMBER)


def _page_numbers(doc, section):
    doc.settings.odd_and_even_pages_header_footer = True
    section.footer.is_linked_to_previous = False
    _page_number_paragraph(section.footer.paragraphs[0], WD_ALIGN_PARAGRAPH.RIGHT)
    even = section.even_page_footer
    even.is_linked_to_previous = False
    _page_number_paragraph(even.paragraphs[0], WD_ALIGN_PARAGRAPH.LEFT)


def _fallback_font(doc, name: str, alternative: str):
    """Declare ``alternative`` as the substitute for ``name`` in the font table (w:altName)."""
    for rel in doc.part.rels.values():
        if rel.reltype.endswith("/fontTable"):
            part = rel.target_part
            break
    else:
        return
    from lxml import etree

    root = etree.fromstring(part.blob)
    for font in root.findall(qn("w:font")):
        if font.get(qn("w:name")) == name:
            return
    font = etree.SubElement(root, qn("w:font"))
    font.set(qn("w:name"), name)
    alt = etree.SubElement(font, qn("w:altName"))
    alt.set(qn("w:val"), alternative)
    charset = etree.SubElement(font, qn("w:charset"))
    charset.set(qn("w:val"), "86")  # GB2312
    family = etree.SubElement(font, qn("w:family"))
    family.set(qn("w:val"), "roman")
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


# ---------------------------------------------------------------------------
# Blocks


class _Numbering:
    def __init__(self):
        self.counters = [0, 0, 0]

    def next(self, level):
        index = min(max(level, 1), 3) - 1
        self.counters[index] += 1
        for deeper in range(index + 1, 3):
            self.counters[deeper] = 0
        n = self.counters[index]
        return {0: f"{chinese_numeral(n)}、", 1: f"（{chinese_numeral(n)}）", 2: f"{n}．"}[index]


def _heading(doc, block: Heading, numbering: _Numbering):
    level = min(max(int(block.level or 1), 1), 3)
    text = (block.text or "").strip()
    if _HEADING_PREFIX[level].match(text):
        numbering.next(level)
    else:
        text = numbering.next(level) + text
    font = {1: FONT_HEITI, 2: FONT_KAITI, 3: FONT_FANGSONG}[level]
    paragraph = _add_text(doc, text, font=font, first_line_chars=2)
    paragraph.paragraph_format.keep_with_next = True
    return paragraph


def _paragraphs(doc, block: Paragraph):
    for line in (block.text or "").splitlines():
        line = line.strip()
        if line:
            _add_text(doc, line, first_line_chars=2, align=WD_ALIGN_PARAGRAPH.JUSTIFY)


def _looks_numeric(value) -> bool:
    if isinstance(value, (int, float)):
        return True
    return bool(re.fullmatch(r"[-+]?[\d,，]*\.?\d+%?", str(value).strip()))


def _cell_text(cell, value, bold=False, align=None):
    cell.text = ""
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    paragraph.paragraph_format.space_before = Pt(0)
    paragraph.paragraph_format.space_after = Pt(0)
    if align is not None:
        paragraph.alignment = align
    # table lines keep their own (single) spacing instead of the body's 22-line grid
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    paragraph._p.get_or_add_pPr().append(snap)
    text = "" if value is None else str(value)
    _set_run_font(paragraph.add_run(text), FONT_FANGSONG, SIZE_TABLE, bold)


def _text_width(value) -> float:
    """Width of a cell's text in body characters: CJK and full-width count 1, others ½."""
    text = "" if value is None else str(value)
    return sum(1.0 if ord(ch) > 0x2E7F else 0.55 for ch in text)


def column_widths(headers, rows, columns: int, total_mm: float = TEXT_WIDTH_MM) -> list[float]:
    """Column widths in mm, from content: each column gets its longest cell (a header may
    wrap onto two lines), at least 4 characters; when the natural widths exceed the text
    width, the widest columns give way first (text wraps in them), not the numbers."""
    char_mm = SIZE_TABLE.pt * 0.3528 * 1.05
    padding_mm = 2.2
    natural = []
    for i in range(columns):
        header = headers[i] if i < len(headers) else ""
        longest = max([_text_width(row[i]) for row in rows if i < len(row)] + [0.0])
        wanted = max(longest, _text_width(header) / 2, 4.0)
        natural.append(wanted * char_mm + padding_mm)
    if sum(natural) <= total_mm:
        spare = (total_mm - sum(natural)) / columns
        return [w + spare for w in natural]
    # shrink the widest columns to a common cap until the table fits
    ordered = sorted(natural)
    remaining, count = total_mm, columns
    cap = total_mm / columns
    for width in ordered:
        if width * count <= remaining:
            remaining -= width
            count -= 1
        else:
            cap = remaining / count
            break
    return [min(w, cap) for w in natural]


def _keep_with_next(paragraph):
    paragraph.paragraph_format.keep_with_next = True
    return paragraph


def _table(doc, block: Table):
    if block.title:
        # the caption never stays behind at the foot of a page
        _keep_with_next(
            _add_text(doc, block.title, font=FONT_HEITI, align=WD_ALIGN_PARAGRAPH.CENTER)
        )
    headers = list(block.headers or [])
    rows = [list(row) for row in (block.rows or [])]
    columns = max([len(headers)] + [len(row) for row in rows] + [1])
    widths = column_widths(headers, rows, columns)
    table = doc.add_table(rows=0, cols=columns)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    grid = table._tbl.tblGrid
    for column, width in zip(grid.findall(qn("w:gridCol")), widths, strict=True):
        column.set(qn("w:w"), str(int(Mm(width).twips)))
    keep_together = len(rows) <= 15  # a short table is moved whole to the next page

    def add_row(values, bold=False, header=False):
        cells = table.add_row().cells
        for i in range(columns):
            value = values[i] if i < len(values) else ""
            if header:
                align = WD_ALIGN_PARAGRAPH.CENTER
            else:
                align = WD_ALIGN_PARAGRAPH.RIGHT if _looks_numeric(value) else None
            cells[i].width = Mm(widths[i])
            _cell_text(cells[i], value, bold=bold, align=align)
            if keep_together:
                _keep_with_next(cells[i].paragraphs[0])
        tr_pr = table.rows[-1]._tr.get_or_add_trPr()
        tr_pr.append(OxmlElement("w:cantSplit"))  # a row is never cut across pages
        return tr_pr

    if headers:
        # Repeat the header row on every page the table runs over.
        add_row(headers, bold=True, header=True).append(OxmlElement("w:tblHeader"))
    for row in rows:
        add_row(row)
    doc.add_paragraph()  # the body resumes one line below the table


def _image(doc, block: Image):
    path = Path(block.path)
    if not path.is_file():
        raise RenditionError(f"图片文件不存在：{path.name}")
    try:
        doc.add_picture(str(path), width=Mm(TEXT_WIDTH_MM * 0.8))
    except Exception as exc:  # python-docx raises several kinds for unreadable images
        raise RenditionError(f"图片无法读取：{path.name}") from exc
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    if block.caption:
        _add_text(
            doc, block.caption, font=FONT_KAITI, size=SIZE_FOOT, align=WD_ALIGN_PARAGRAPH.CENTER
        )


def _blocks(doc, blocks):
    numbering = _Numbering()
    for block in blocks or []:
        if isinstance(block, Heading):
            _heading(doc, block, numbering)
        elif isinstance(block, Paragraph):
            _paragraphs(doc, block)
        elif isinstance(block, Table):
            _table(doc, block)
        elif isinstance(block, Image):
            _image(doc, block)
        elif isinstance(block, str):
            _paragraphs(doc, Paragraph(block))
        else:
            raise TypeError(f"unsupported block {type(block).__name__}")


def set_office_properties(document, title: str, author: str, subject: str = "") -> None:
    """Document properties from the office (not python-docx's template defaults)."""
    from django.utils import timezone

    props = document.core_properties
    now = timezone.now().replace(microsecond=0)
    props.author = author
    props.last_modified_by = author
    props.title = title
    props.subject = subject
    props.comments = ""
    props.keywords = ""
    props.category = ""
    props.language = "zh-CN"
    props.created = now
    props.modified = now
    props.revision = 1


def _to_bytes(doc) -> bytes:
    buffer = BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _right_tab_line(doc, left: str, right: str, font=FONT_FANGSONG, size=SIZE_BODY,
                    left_indent_chars=0, right_indent_chars=0):  # fmt: skip
    """One line with ``left`` at the left and ``right`` flush right (a right tab stop)."""
    paragraph = doc.add_paragraph()
    _fixed_spacing(paragraph)
    fmt = paragraph.paragraph_format
    if left_indent_chars:
        fmt.left_indent = Pt(size.pt * left_indent_chars)
    if right_indent_chars:
        fmt.right_indent = Pt(size.pt * right_indent_chars)
    stop = Mm(TEXT_WIDTH_MM) - Pt(size.pt * (left_indent_chars + right_indent_chars))
    fmt.tab_stops.add_tab_stop(stop, WD_TAB_ALIGNMENT.RIGHT)
    _set_run_font(paragraph.add_run(f"{left}\t{right}"), font, size)
    return paragraph


# ---------------------------------------------------------------------------
# 简报


def render_briefing_docx(doc: BriefingDocument) -> bytes:
    """The 简报 layout as DOCX bytes."""
    document = Document()
    set_office_properties(
        document, doc.title.strip() or f"{doc.masthead}第{doc.issue_number}期", doc.editor,
        subject=doc.masthead,
    )  # fmt: skip
    _page_setup(document)
    _fallback_font(document, _title_font(), _title_font_fallback())

    masthead = _add_text(
        document, doc.masthead, font=_title_font(), size=SIZE_MASTHEAD, color=RED,
        align=WD_ALIGN_PARAGRAPH.CENTER, pitch=SIZE_MASTHEAD.pt * 1.4,
    )  # fmt: skip
    masthead.paragraph_format.space_before = Pt(LINE_PITCH_PT)
    _add_text(document, f"第{doc.issue_number}期", font=FONT_KAITI, align=WD_ALIGN_PARAGRAPH.CENTER)
    _add_text(document, "")
    editor_line = _right_tab_line(
        document, doc.editor, format_chinese_date(doc.date), font=FONT_KAITI,
        left_indent_chars=0.5, right_indent_chars=0.5,
    )  # fmt: skip
    _border(editor_line, "bottom", RED_HEX, size_eighths=18, space=4)
    _add_text(document, "")

    if doc.editor_note:
        note = document.add_paragraph()
        _fixed_spacing(note)
        note.paragraph_format.first_line_indent = Pt(SIZE_BODY.pt * 2)
        _set_run_font(note.add_run("编者按："), FONT_HEITI, SIZE_BODY)
        _set_run_font(note.add_run(doc.editor_note.strip()), FONT_KAITI, SIZE_BODY)
        _add_text(document, "")

    if doc.title.strip():
        _add_text(
            document, doc.title.strip(), font=_title_font(), size=SIZE_TITLE,
            align=WD_ALIGN_PARAGRAPH.CENTER, pitch=SIZE_TITLE.pt * 1.5,
        )  # fmt: skip
        _add_text(document, "")

    _blocks(document, doc.blocks)

    if doc.recipients or doc.print_count:
        _add_text(document, "")
        foot_size = SIZE_FOOT
        if doc.recipients:
            recipients = "，".join(str(r) for r in doc.recipients) + "。"
            line = _add_text(
                document, "印送：" + recipients, size=foot_size, left_chars=1, right_chars=1,
                pitch=foot_size.pt * 1.5,
            )  # fmt: skip
            line.paragraph_format.first_line_indent = 0
            _border(line, "top", "000000", size_eighths=8, space=4)
            last = line
        if doc.print_count:
            last = _add_text(
                document, f"（共印{doc.print_count}份）", size=foot_size,
                align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=1, pitch=foot_size.pt * 1.5,
            )  # fmt: skip
            if not doc.recipients:
                _border(last, "top", "000000", size_eighths=8, space=4)
        _border(last, "bottom", "000000", size_eighths=8, space=4)
    return _to_bytes(document)


# ---------------------------------------------------------------------------
# GB/T 9704 report or letter


def render_report_docx(doc: ReportDocument) -> bytes:
    """The GB/T 9704-2012 layout as DOCX bytes."""
    document = Document()
    set_office_properties(document, (doc.title or "").strip(), doc.issuer)
    _page_setup(document)
    _fallback_font(document, _title_font(), _title_font_fallback())

    if doc.letterhead:
        head = _add_text(
            document, doc.letterhead, font=_title_font(), size=Pt(26), color=RED,
            align=WD_ALIGN_PARAGRAPH.CENTER, pitch=26 * 1.5,
        )  # fmt: skip
        _border(head, "bottom", RED_HEX, size_eighths=24, space=6)
        _add_text(document, "")
    if doc.doc_number:
        _add_text(
            document, doc.doc_number,
            align=WD_ALIGN_PARAGRAPH.RIGHT if doc.letterhead else WD_ALIGN_PARAGRAPH.CENTER,
            right_chars=1 if doc.letterhead else 0,
        )  # fmt: skip
    _add_text(document, "")

    # Title: 2号 小标宋, centred; a long title wraps by itself.
    title = (doc.title or "").strip()
    for line in title.splitlines() or [""]:
        _add_text(
            document, line.strip(), font=_title_font(), size=SIZE_TITLE,
            align=WD_ALIGN_PARAGRAPH.CENTER, pitch=LINE_PITCH_PT * 1.2,
        )  # fmt: skip
    _add_text(document, "")

    if doc.recipients:
        _add_text(document, "、".join(str(r) for r in doc.recipients) + "：")

    _blocks(document, doc.blocks)

    if doc.attachments:
        _add_text(document, "")
        count = len(doc.attachments)
        for index, name in enumerate(doc.attachments, start=1):
            label = "附件：" if index == 1 else ""
            number = f"{index}．" if count > 1 else ""
            paragraph = _add_text(document, f"{label}{number}{name}", left_chars=2)
            if index > 1:
                paragraph.paragraph_format.left_indent = Pt(SIZE_BODY.pt * 5)

    # Signature: 发文机关署名 over the 成文日期, the date four characters in from the right.
    _add_text(document, "")
    _add_text(document, "")
    if doc.issuer:
        _add_text(document, doc.issuer, align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=2)
    _add_text(
        document, format_chinese_date(doc.date), align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=4
    )

    # 版记: 抄送 and the 印发 line between rules.
    _add_text(document, "")
    foot = SIZE_FOOT
    first = None
    if doc.cc:
        first = _add_text(
            document, "抄送：" + "，".join(str(c) for c in doc.cc) + "。", size=foot,
            left_chars=1, right_chars=1, pitch=foot.pt * 1.6,
        )  # fmt: skip
        _border(first, "top", "000000", size_eighths=8, space=4)
    printed = _right_tab_line(
        document, doc.issuer, format_chinese_date(doc.date) + "印发", size=foot,
        left_indent_chars=1, right_indent_chars=1,
    )  # fmt: skip
    if first is None:
        _border(printed, "top", "000000", size_eighths=8, space=4)
    else:
        _border(printed, "top", "000000", size_eighths=4, space=4)
    _border(printed, "bottom", "000000", size_eighths=8, space=4)
    return _to_bytes(document)


# ---------------------------------------------------------------------------
# PDF


# The documents name the fonts of a government office (仿宋, 黑体, 楷体, 方正小标宋简体); a server
# rarely has them, and fontconfig's own guess is a sans-serif Japanese face for all of them. These
# are the nearest free faces from Debian packages (fonts-arphic-uming/ukai, fonts-noto-cjk),
# tried in order, used only for the conversion (a private fonts.conf).
DEFAULT_FONT_SUBSTITUTES = {
    FONT_FANGSONG: ["AR PL UMing CN", "Noto Serif CJK SC"],
    FONT_SONGTI: ["AR PL UMing CN", "Noto Serif CJK SC"],
    FONT_KAITI: ["AR PL UKai CN", "AR PL UMing CN", "Noto Serif CJK SC"],
    FONT_HEITI: ["Noto Sans CJK SC"],
    FONT_XIAOBIAOSONG: ["Noto Serif CJK SC", "AR PL UMing CN"],
}


def _fontconfig_file(directory: Path) -> Path:
    from xml.sax.saxutils import escape

    substitutes = getattr(settings, "OFFICIALDOC_FONT_SUBSTITUTES", DEFAULT_FONT_SUBSTITUTES)
    system = os.environ.get("FONTCONFIG_FILE") or "/etc/fonts/fonts.conf"
    aliases = "".join(
        f'<alias binding="strong"><family>{escape(name)}</family><prefer>'
        + "".join(f"<family>{escape(face)}</family>" for face in faces)
        + "</prefer></alias>"
        for name, faces in substitutes.items()
    )
    path = directory / "fonts.conf"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f'<include ignore_missing="yes">{escape(system)}</include>{aliases}</fontconfig>',
        encoding="utf-8",
    )
    return path


def _soffice_binary() -> str | None:
    configured = getattr(settings, "OFFICIALDOC_SOFFICE", "")
    if configured:
        return shutil.which(configured) or (configured if os.path.isfile(configured) else None)
    return shutil.which("soffice") or shutil.which("libreoffice")


def soffice_available() -> bool:
    return _soffice_binary() is not None


def docx_to_pdf(docx_bytes: bytes, timeout: int = 120) -> bytes:
    """Convert DOCX bytes to PDF bytes with LibreOffice headless.

    Each call has its own temporary directory and LibreOffice profile, removed afterwards.
    Raises RenditionError (Chinese message) when soffice is missing, times out or fails.
    """
    binary = _soffice_binary()
    if binary is None:
        raise RenditionError(
            "未安装 LibreOffice（soffice），无法生成 PDF 版本；DOCX 版本不受影响。"
        )
    if not docx_bytes:
        raise RenditionError("DOCX 内容为空，无法转换为 PDF。")
    with tempfile.TemporaryDirectory(prefix="officialdoc-") as tmp:
        tmp_path = Path(tmp)
        source = tmp_path / "document.docx"
        source.write_bytes(docx_bytes)
        profile = tmp_path / "profile"
        command = [
            binary,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path / "out"),
            str(source),
        ]
        env = dict(os.environ, HOME=str(tmp_path))
        env["FONTCONFIG_FILE"] = str(_fontconfig_file(tmp_path))
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=tmp,
            env=env,
            start_new_session=True,
        )
        try:
            _stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.communicate()
            raise RenditionError(f"PDF 转换超时（超过 {timeout} 秒），已中止。") from None
        target = tmp_path / "out" / "document.pdf"
        if process.returncode != 0 or not target.is_file():
            detail = (stderr or b"").decode("utf-8", "replace").strip()[:200]
            raise RenditionError(
                f"PDF 转换失败（LibreOffice 返回 {process.returncode}）"
                + (f"：{detail}" if detail else "。")
            )
        data = target.read_bytes()
    if not data.startswith(b"%PDF"):
        raise RenditionError("PDF 转换失败：LibreOffice 未输出有效的 PDF 文件。")
    return data
