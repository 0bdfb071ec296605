"""A streaming reader of an XLSX file's first sheet for the supervision imports.

budget.importing.read_xlsx goes through openpyxl's read-only mode, which builds a cell object
for every value: about 60 s of CPU for 100,000 rows of ten columns. This reader walks the same
XML with lxml's iterparse and keeps only values, giving the rows budget's reader gives for
what the supervision imports read — text, numbers (int when whole, float otherwise), dates
(a number in a date format becomes a datetime, 1900 or 1904 calendar), booleans, and a
formula as its text with "=" in front (so it is refused as a formula, never read as its cached
result) — with the same limits and the same Chinese refusals: unreadable or broken files, sheet
XML beyond max_expanded_bytes(), more than max_rows() data rows or MAX_COLUMNS columns, and
reading that stops after BLANK_RUN_LIMIT empty rows in a row. Merged cells are not reported:
the supervision tables do not use them.
"""

import datetime
import io
import posixpath
import re
import zipfile

from budget.importing import (
    BLANK_RUN_LIMIT,
    ImportRefused,
    Sheet,
    _blank,
    _too_many_rows,
    _trimmed,
    max_expanded_bytes,
    max_rows,
)

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")
_ROW, _CELL, _VALUE, _FORMULA = f"{MAIN}row", f"{MAIN}c", f"{MAIN}v", f"{MAIN}f"
_INLINE, _TEXT, _RUN = f"{MAIN}is", f"{MAIN}t", f"{MAIN}r"


class _Limited(io.RawIOBase):
    """A zip member read through a byte count: refused once it expands beyond *limit*."""

    def __init__(self, source, limit):
        self.source, self.limit, self.total = source, limit, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.source.read(len(buffer))
        self.total += len(data)
        if self.total > self.limit:
            raise ImportRefused(
                f"工作表解压后超过 {self.limit // 1024 // 1024} MB（压缩文件中可能有大量空白格式行），"
                "请在 Excel 中删除数据以外的行和列，或另存为 CSV 后再导入"
            )
        buffer[: len(data)] = data
        return len(data)


def _parse(archive, name, limit):
    from lxml import etree

    with archive.open(name) as member:
        return etree.parse(
            io.BufferedReader(_Limited(member, limit)),
            etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True),
        ).getroot()


def _text_of(element) -> str:
    """A shared or inline string: its <t>, or its runs' <t> (phonetic runs left out)."""
    plain = element.find(_TEXT)
    if plain is not None:
        return plain.text or ""
    return "".join(run.findtext(_TEXT) or "" for run in element.iter(_RUN))


def _first_sheet(archive, limit):
    workbook = _parse(archive, "xl/workbook.xml", limit)
    pr = workbook.find(f"{MAIN}workbookPr")
    date1904 = pr is not None and pr.get("date1904") in ("1", "true")
    sheet = workbook.find(f"{MAIN}sheets/{MAIN}sheet")
    if sheet is None:
        raise ImportRefused("XLSX 文件中没有工作表")
    rels = _parse(archive, "xl/_rels/workbook.xml.rels", limit)
    target = next(
        (r.get("Target") for r in rels.iter(f"{PACKAGE_REL}Relationship")
         if r.get("Id") == sheet.get(f"{REL}id")),
        None,
    )  # fmt: skip
    if not target:
        raise ImportRefused("XLSX 文件中找不到第一个工作表")
    path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
    return posixpath.normpath(path), sheet.get("name", ""), date1904


def _date_styles(archive, limit) -> set[int]:
    """Indexes of the cell formats whose number format shows a date or a time."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    if "xl/styles.xml" not in archive.namelist():
        return set()
    styles = _parse(archive, "xl/styles.xml", limit)
    formats = dict(BUILTIN_FORMATS)
    for fmt in styles.iter(f"{MAIN}numFmt"):
        if fmt.get("numFmtId", "").isdigit():
            formats[int(fmt.get("numFmtId"))] = fmt.get("formatCode", "")
    xfs = styles.find(f"{MAIN}cellXfs")
    if xfs is None:
        return set()
    return {
        index
        for index, xf in enumerate(xfs.iterfind(f"{MAIN}xf"))
        if is_date_format(formats.get(int(xf.get("numFmtId", "0") or 0), ""))
    }


def _column(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + (ord(ch) - 64)
    return index - 1


def read_xlsx(content: bytes) -> Sheet:
    from lxml import etree
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

    byte_limit, row_limit = max_expanded_bytes(), max_rows()
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ImportRefused(f"无法打开 XLSX 文件，文件可能已损坏：{error}") from None
    try:
        with archive:
            path, title, date1904 = _first_sheet(archive, byte_limit)
            declared = archive.getinfo(path).file_size
            if declared > byte_limit:
                raise ImportRefused(
                    f"工作表解压后有 {declared / 1024 / 1024:.0f} MB，超过上限 "
                    f"{byte_limit // 1024 // 1024} MB；请在 Excel 中删除数据以外的行和列，"
                    "或拆分后分别导入"
                )
            shared = []
            if "xl/sharedStrings.xml" in archive.namelist():
                strings = _parse(archive, "xl/sharedStrings.xml", byte_limit)
                shared = [_text_of(si) for si in strings.iterfind(f"{MAIN}si")]
            dates = _date_styles(archive, byte_limit)
            epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
            rows, notes = [], []
            blank_run, data_rows, last_number = 0, 0, 0
            with archive.open(path) as member:
                source = io.BufferedReader(_Limited(member, byte_limit), 1 << 20)
                context = etree.iterparse(
                    source, events=("end",), tag=_ROW, resolve_entities=False, huge_tree=True
                )
                for _event, row in context:
                    number = int(row.get("r") or last_number + 1)
                    blank_run += max(0, number - last_number - 1)  # rows not written are empty
                    last_number = number
                    values = []
                    for cell in row:
                        if cell.tag != _CELL:
                            continue
                        ref = cell.get("r")
                        if ref:
                            index = _column(ref.rstrip("0123456789"))
                            if index > len(values):
                                values.extend([None] * (index - len(values)))
                        values.append(_value(cell, shared, dates, epoch, from_excel))
                    row.clear()
                    while row.getprevious() is not None:
                        del row.getparent()[0]
                    values = _trimmed(values)
                    if _blank(values):
                        blank_run += 1
                    if blank_run >= BLANK_RUN_LIMIT and data_rows:
                        notes.append(
                            f"第 {number - blank_run + 1} 行起连续 {BLANK_RUN_LIMIT} 行为空，"
                            "其后的内容未读取；如有数据，请删除中间的空行后重新导入"
                        )
                        break
                    if _blank(values):
                        continue
                    blank_run = 0
                    data_rows += 1
                    if data_rows > row_limit:
                        raise _too_many_rows(row_limit)
                    rows.append((number, values))
    except ImportRefused:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError, IndexError, OSError) as error:
        raise ImportRefused(f"XLSX 文件内容无法读取，文件可能已损坏：{error}") from None
    except etree.XMLSyntaxError as error:
        raise ImportRefused(f"XLSX 文件内容无法读取，文件可能已损坏：{error}") from None
    return Sheet(rows=rows, merged=[], title_hint=title, notes=notes)


def _inline_text(inline) -> str:
    for child in inline:
        if child.tag == _TEXT:
            return child.text or ""
    return "".join(t.text or "" for run in inline if run.tag == _RUN for t in run if t.tag == _TEXT)


def _value(cell, shared, dates, epoch, from_excel):
    """One cell's value; its children are walked once (find() parses its path every call)."""
    text = inline = None
    for child in cell:
        tag = child.tag
        if tag == _VALUE:
            text = child.text
        elif tag == _FORMULA:
            return "=" + (child.text or "")
        elif tag == _INLINE:
            inline = child
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        return _inline_text(inline) if inline is not None else None
    if text is None:
        return None
    if kind == "s":
        return shared[int(text)]
    if kind == "n":
        number = float(text) if ("." in text or "E" in text or "e" in text) else int(text)
        style = cell.get("s")
        if style is not None and int(style) in dates:
            return from_excel(number, epoch)
        return number
    if kind == "b":
        return bool(int(text))
    if kind == "d":
        return datetime.datetime.fromisoformat(text.rstrip("Z"))
    return text  # "str", "e" (an error such as #N/A)
