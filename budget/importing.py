"""Importing budget spreadsheets: reading, validating and storing one batch.

Two layouts are read (docs in templates/budget/import_help.html, the template from
/budget/import/template.csv and .xlsx):

- 长表模板 (long form), one figure per row, columns
  年度, 月份, 预算类型, 科目编码, 科目名称, 单位编码, 单位名称, 阶段, 金额(万元)
  (金额(元) instead of 金额(万元) gives amounts in 元; an optional 科目分类 column names the
  classification, 支出功能分类 by default);
- 执行情况表 (wide execution table) as finance systems export it: a title row such as
  “2026年1-9月一般公共预算支出执行情况表”, a unit line, a header row with 科目编码, 科目名称
  and some of 年初预算数, 调整预算数, 本月执行数, 累计执行数, 决算数; 类/款 subtotal rows and
  合计 rows are recognised and checked against their parts.

An import is all-or-nothing: every bad row is reported with its row number and reason,
and nothing is stored while any row is bad. Re-importing the same period and scope
replaces the earlier batch; the new batch records what changed.
"""

import csv
import functools
import hashlib
import io
import re
import unicodedata
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Count

from .amounts import WAN, YUAN, AmountError, format_wan, parse_amount
from .choices import (
    BUDGET_ALIASES,
    LEVEL_LENGTHS,
    PHASE_ALIASES,
    BatchFormat,
    BatchStatus,
    BudgetKind,
    ClassificationKind,
    Phase,
)
from .measures import rebuild_rollups as build_rollups_for
from .models import Department, Figure, ImportBatch, Subject, level_of, parent_code

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# Reading limits: data rows per file, columns per row, the sheet's XML once unzipped, and
# formatted empty rows in a row after which the data is taken to have ended.
DEFAULT_MAX_ROWS = 500_000
MAX_COLUMNS = 100
DEFAULT_MAX_EXPANDED_BYTES = 400 * 1024 * 1024
BLANK_RUN_LIMIT = 10_000
MAX_REPORTED_ERRORS = 500
HEADER_SEARCH_ROWS = 30
BULK_SIZE = 2000
SAMPLE_CHANGES = 50

LONG_HEADERS = ["年度", "月份", "预算类型", "科目编码", "科目名称", "单位编码", "单位名称", "阶段"]
LONG_AMOUNT_HEADERS = {"金额(万元)": WAN, "金额(元)": YUAN}
TEMPLATE_HEADERS = [*LONG_HEADERS, "金额(万元)"]

WIDE_COLUMNS = {
    "年初预算数": Phase.INITIAL,
    "年初预算": Phase.INITIAL,
    "调整预算数": Phase.ADJUSTED,
    "调整预算": Phase.ADJUSTED,
    "变动后预算数": Phase.ADJUSTED,
    "本月执行数": Phase.EXECUTION,
    "本月数": Phase.EXECUTION,
    "本月支出": Phase.EXECUTION,
    "累计执行数": Phase.CUMULATIVE,
    "累计数": Phase.CUMULATIVE,
    "累计支出": Phase.CUMULATIVE,
    "决算数": Phase.FINAL,
}
CODE_HEADERS = ("科目编码", "科目代码", "功能分类科目编码", "编码")
NAME_HEADERS = ("科目名称", "项目", "科目")
TOTAL_WORDS = ("合计", "总计", "小计", "累计合计")
KIND_HEADER = "科目分类"
KIND_ALIASES = {label: value for value, label in ClassificationKind.choices} | {
    "功能分类": ClassificationKind.FUNCTION,
    "经济分类": ClassificationKind.ECONOMIC,
    "收入": ClassificationKind.REVENUE,
}

_TITLE_YEAR = re.compile(r"(\d{4})\s*年")
_TITLE_RANGE = re.compile(r"(\d{1,2})\s*[-－—–~～至到]\s*(\d{1,2})\s*月")
_TITLE_MONTH = re.compile(r"年\s*(\d{1,2})\s*月")
_UNIT = re.compile(r"单位\s*[:：]\s*(万元|元)")
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+\d+(?::[A-Z]+\d+)?)"')
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")


class ImportRefused(Exception):
    """The whole file is unusable (empty, too large, unreadable, no header)."""


@dataclass
class RowError:
    row: int | None
    message: str

    def as_dict(self):
        return {"row": self.row, "message": self.message}


@dataclass
class ImportOptions:
    year: int | None = None
    month: int | None = None
    budget: str | None = None
    kind: str | None = None


@dataclass
class ImportResult:
    status: str  # "ok" or "error"
    rows: int = 0
    batch: int | None = None
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    changes: dict = field(default_factory=dict)
    scope_label: str = ""
    file_format: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "rows": self.rows,
            "batch": self.batch,
            "errors": [e.as_dict() for e in self.errors],
            "warnings": [w.as_dict() for w in self.warnings],
            "changes": self.changes,
            "scope": self.scope_label,
            "format": self.file_format,
        }


# --- reading -----------------------------------------------------------------------------


@dataclass
class Sheet:
    rows: list  # list of (row number, [cell values])
    merged: list  # list of (first row, last row, first col, last col, "A1:B2")
    title_hint: str = ""
    notes: list = field(default_factory=list)  # warnings about what was not read


def max_bytes() -> int:
    return int(getattr(settings, "BUDGET_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + (ord(ch) - 64)
    return index - 1


def _parse_ref(ref: str):
    parts = ref.split(":")
    first = _CELL_REF.fullmatch(parts[0])
    last = _CELL_REF.fullmatch(parts[-1])
    return (
        int(first.group(2)),
        int(last.group(2)),
        _column_index(first.group(1)),
        _column_index(last.group(1)),
        ref,
    )


def decode_csv(content: bytes) -> str:
    """UTF-8 (with or without BOM) or GBK/GB18030, as finance systems write it."""
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    for encoding in ("utf-8", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused("无法识别 CSV 文件的字符编码，请另存为 UTF-8 或 GBK 编码的 CSV")


def read_csv(content: bytes) -> Sheet:
    text = decode_csv(content)
    if "\x00" in text:
        raise ImportRefused("文件中含有二进制内容，不是文本格式的 CSV 文件")
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    limit, rows = max_rows(), []
    try:
        for number, row in enumerate(reader, start=1):
            if len(rows) >= limit and not _blank(row):
                raise _too_many_rows(limit)
            rows.append((number, _trimmed(row)))
    except csv.Error as error:
        raise ImportRefused(f"CSV 格式错误：{error}") from None
    return Sheet(rows=rows, merged=[])


def max_rows() -> int:
    return int(getattr(settings, "BUDGET_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def max_expanded_bytes() -> int:
    return int(getattr(settings, "BUDGET_IMPORT_MAX_EXPANDED_BYTES", DEFAULT_MAX_EXPANDED_BYTES))


def _too_many_rows(limit: int) -> ImportRefused:
    return ImportRefused(
        f"表格超过 {limit} 行数据，超出一次导入的上限；请按月份、预算类型或单位拆分后分别导入"
    )


def _trimmed(values) -> list:
    """The row without its trailing empty cells; refused when data lies past MAX_COLUMNS."""
    values = list(values)
    while values and (values[-1] is None or values[-1] == ""):
        values.pop()
    if len(values) > MAX_COLUMNS:
        raise ImportRefused(
            f"表格超过 {MAX_COLUMNS} 列（第 {len(values)} 列仍有内容），不是预算数据表；"
            "请只保留数据所在的列后再导入"
        )
    return values


def _merged_refs(source, limit: int) -> list:
    """mergeCell references, read from the sheet's XML in chunks (never the whole sheet in
    memory); refused when the XML expands beyond *limit* bytes."""
    merged, tail, total = [], b"", 0
    while chunk := source.read(1 << 20):
        total += len(chunk)
        if total > limit:
            raise ImportRefused(
                f"工作表解压后超过 {limit // 1024 // 1024} MB（压缩文件中可能有大量空白格式行），"
                "请在 Excel 中删除数据以外的行和列，或另存为 CSV 后再导入"
            )
        text = tail + chunk
        cut = text.rfind(b"<")
        for match in _MERGE.finditer(text, 0, cut if cut > 0 else len(text)):
            merged.append(_parse_ref(match.group(1).decode()))
        tail = text[cut:] if cut > 0 else b""
    for match in _MERGE.finditer(tail):
        merged.append(_parse_ref(match.group(1).decode()))
    return merged


def read_xlsx(content: bytes) -> Sheet:
    """Stream the first sheet (openpyxl read-only mode). The sheet's declared dimension is
    ignored: a file declaring A1:XFD1048576 would otherwise pad every row to 16,384 cells
    (a 165 KB file took 55 s and 490 MB that way). Rows keep only up to their last value;
    formatted empty rows are skipped and, after BLANK_RUN_LIMIT of them in a row, reading
    stops with a warning. Data rows beyond max_rows(), columns beyond MAX_COLUMNS and sheet
    XML beyond max_expanded_bytes() are refused with a message."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise ImportRefused(f"无法打开 XLSX 文件，文件可能已损坏：{error}") from None
    row_limit, byte_limit = max_rows(), max_expanded_bytes()
    notes = []
    try:
        sheet = workbook.worksheets[0]
        declared = workbook._archive.getinfo(sheet._worksheet_path).file_size
        if declared > byte_limit:
            raise ImportRefused(
                f"工作表解压后有 {declared / 1024 / 1024:.0f} MB，超过上限 "
                f"{byte_limit // 1024 // 1024} MB；请在 Excel 中删除数据以外的行和列，"
                "或拆分后分别导入"
            )
        source = sheet._get_source()
        try:
            merged = _merged_refs(source, byte_limit)
        finally:
            source.close()
        sheet.reset_dimensions()
        rows, blank_run, data_rows = [], 0, 0
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                values = _trimmed(values)
                if _blank(values):
                    blank_run += 1
                    if blank_run >= BLANK_RUN_LIMIT and data_rows:
                        notes.append(
                            f"第 {number - blank_run + 1} 行起连续 {BLANK_RUN_LIMIT} 行为空，"
                            "其后的内容未读取；如有数据，请删除中间的空行后重新导入"
                        )
                        break
                    continue
                blank_run = 0
                data_rows += 1
                if data_rows > row_limit:
                    raise _too_many_rows(row_limit)
                rows.append((number, values))
        except (zipfile.BadZipFile, ValueError, KeyError, EOFError) as error:
            raise ImportRefused(f"XLSX 文件内容无法读取，文件可能已损坏：{error}") from None
        title_hint = sheet.title
    finally:
        workbook.close()
    return Sheet(rows=rows, merged=merged, title_hint=title_hint, notes=notes)


def read_table(content: bytes, filename: str) -> Sheet:
    if not content:
        raise ImportRefused("文件是空的（0 字节），没有可导入的数据")
    limit = max_bytes()
    if len(content) > limit:
        raise ImportRefused(
            f"文件大小 {len(content) / 1024 / 1024:.1f} MB，超过上限 {limit / 1024 / 1024:.0f} MB；"
            "请按月份或预算类型拆分后分别导入"
        )
    name = filename.lower()
    if content.startswith(b"PK\x03\x04"):
        return read_xlsx(content)
    if content.startswith(b"\xd0\xcf\x11\xe0") or name.endswith(".xls"):
        raise ImportRefused(
            "不支持旧版 Excel（.xls）格式，请在 Excel 中另存为 .xlsx 或 CSV 后再导入"
        )
    if name.endswith(".xlsx"):
        raise ImportRefused("文件扩展名是 .xlsx，但内容不是有效的 Excel 文件")
    return read_csv(content)


# --- cells ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _normalized(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace("\u3000", " ").strip()


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        # NFKC leaves ASCII unchanged; other text repeats (预算类型, 阶段), so it is cached
        return value.strip() if value.isascii() else _normalized(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _normalized(str(value))


def header_text(value) -> str:
    return re.sub(r"\s+", "", cell_text(value))


def is_formula(value) -> bool:
    if isinstance(value, str):
        return value.startswith("=")
    if value is None or isinstance(value, (int, float)):
        return False
    return type(value).__name__ in ("DataTableFormula", "ArrayFormula")


_SPACE = re.compile(r"\s+")


def code_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = cell_text(value)
    return _SPACE.sub("", text) if not text.isdigit() else text


def _blank(values) -> bool:
    for v in values:
        if v is not None and v != "" and cell_text(v) != "":
            return False
    return True


# --- metadata from titles and file names ---------------------------------------------------


def metadata_from_text(text: str) -> dict:
    """Year, month, budget and classification named in a title or a file name."""
    text = unicodedata.normalize("NFKC", text or "")
    found = {}
    year = _TITLE_YEAR.search(text)
    if year:
        found["year"] = int(year.group(1))
    period = _TITLE_RANGE.search(text)
    if period:
        found["month"] = int(period.group(2))
    else:
        month = _TITLE_MONTH.search(text)
        if month:
            found["month"] = int(month.group(1))
        elif "决算" in text or "全年" in text:
            found["month"] = 12
    for alias in sorted(BUDGET_ALIASES, key=len, reverse=True):
        if alias in text:
            found["budget"] = BUDGET_ALIASES[alias]
            break
    if "收入" in text and "支出" not in text:
        found["kind"] = ClassificationKind.REVENUE
    elif "经济分类" in text:
        found["kind"] = ClassificationKind.ECONOMIC
    return found


# --- validation context --------------------------------------------------------------------


class Lookup:
    """Classification and departments, loaded once per import."""

    def __init__(self):
        self._subjects: dict = {}
        self._years_of_code: dict = {}
        # (year, kind, code) -> (name, first row) of subjects this file adds
        self.new_subjects: dict = {}
        self.departments = {
            code: (pk, name)
            for pk, code, name in Department.objects.values_list("pk", "code", "name")
        }

    def subjects(self, year: int, kind: str) -> dict:
        key = (year, kind)
        if key not in self._subjects:
            self._subjects[key] = {
                code: (pk, name)
                for pk, code, name in Subject.objects.filter(year=year, kind=kind).values_list(
                    "pk", "code", "name"
                )
            }
        return self._subjects[key]

    def subject(self, year: int, kind: str, code: str, name: str = "", row=None):
        """(pk, name) of a stored subject, (None, name) of a subject this file adds, or an
        error text. A well-formed code the year's classification lacks is taken from the
        file with its name (a warning, see new_subject_warnings); only a code without a
        name is refused."""
        found = self.subjects(year, kind).get(code)
        if found:
            return found
        key = (year, kind, code)
        if key in self.new_subjects:
            return (None, self.new_subjects[key][0])
        label = ClassificationKind(kind).label
        if not name:
            if not self.subjects(year, kind):
                return (
                    f"{year} 年的{label}科目表尚未录入，科目编码 {code} 这一行也没有科目名称，"
                    "无法从本文件取得科目；请填写科目名称或先导入科目表"
                )
            return f"科目编码 {code} 不在 {year} 年的{label}科目表中，且本行没有科目名称，无法新增"
        self.new_subjects[key] = (name, row)
        return (None, name)

    def other_years(self, kind: str, code: str) -> list[int]:
        if (kind, code) not in self._years_of_code:
            self._years_of_code[(kind, code)] = sorted(
                Subject.objects.filter(kind=kind, code=code).values_list("year", flat=True)
            )
        return self._years_of_code[(kind, code)]

    def new_subject_warnings(self, collector) -> None:
        """One warning for a year whose classification comes from this file; one per code
        for a year that has a classification lacking it."""
        by_scope = defaultdict(list)
        for (year, kind, code), (name, row) in self.new_subjects.items():
            by_scope[(year, kind)].append((code, name, row))
        for (year, kind), added in sorted(by_scope.items()):
            label = ClassificationKind(kind).label
            if not self.subjects(year, kind):
                collector.warn(
                    None,
                    f"{year} 年的{label}科目表尚未录入：本年科目表取自本文件，共 {len(added)} 个"
                    "科目（编码和名称按本文件，上级按编码位数）；之后导入财政部科目表"
                    "（import_classification）可校正名称，已导入的数字不受影响",
                )
                continue
            for code, name, row in sorted(added, key=lambda a: a[2] or 0):
                years = [y for y in self.other_years(kind, code) if y != year]
                seen = f"（该编码见于 {'、'.join(str(y) for y in years[-3:])} 年）" if years else ""
                collector.warn(
                    row,
                    f"科目编码 {code}“{name}”不在 {year} 年的{label}科目表中{seen}，"
                    "已按本文件新增该科目，请核对编码",
                )


def _same_name(a: str, b: str) -> bool:
    return re.sub(r"\s+", "", a) == re.sub(r"\s+", "", b)


@dataclass
class ParsedFigure:
    row: int
    year: int
    month: int
    budget: str
    kind: str
    code: str
    subject_id: int | None  # None: a subject this file adds (created when stored)
    department_id: int | None
    phase: str
    amount: Decimal

    @property
    def key(self):
        return (
            self.year,
            self.month,
            self.budget,
            self.kind,
            self.code,
            self.department_id,
            self.phase,
        )


NON_NEGATIVE_PHASES = {Phase.INITIAL, Phase.ADJUSTED, Phase.FINAL}


class Collector:
    def __init__(self):
        self.errors: list[RowError] = []
        self.warnings: list[RowError] = []
        self.figures: list[ParsedFigure] = []
        self.seen: dict = {}
        # (year, kind, code) -> name of subjects the file adds to the classification
        self.new_subjects: dict = {}

    def error(self, row, message):
        self.errors.append(RowError(row, message))

    def warn(self, row, message):
        if len(self.warnings) < MAX_REPORTED_ERRORS:
            self.warnings.append(RowError(row, message))

    def add(self, figure: ParsedFigure):
        if figure.phase in NON_NEGATIVE_PHASES and figure.amount < 0:
            label = Phase(figure.phase).label
            hint = (
                "调整预算数是调整后的预算总额（= 年初 + 调增 − 调减），调减应体现在总额中"
                if figure.phase == Phase.ADJUSTED
                else "预算数和决算数不能为负数"
            )
            self.error(
                figure.row, f"{label}数不能为负数（{format_wan(figure.amount)} 万元）：{hint}"
            )
            return
        first = self.seen.get(figure.key)
        if first is not None:
            self.error(figure.row, f"与第 {first} 行重复（同一年度、月份、预算、科目、单位和阶段）")
            return
        self.seen[figure.key] = figure.row
        self.figures.append(figure)


def _merged_in(sheet: Sheet, first_row: int, collector: Collector):
    for top, bottom, _left, _right, ref in sheet.merged:
        if bottom >= first_row:
            collector.error(
                max(top, first_row),
                f"存在合并单元格 {ref}：数据区不能合并单元格，请取消合并并在每一行填写完整内容",
            )


def _find_header(sheet: Sheet, wanted) -> tuple[int, list[str]] | None:
    for index, (_number, values) in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        headers = [header_text(v) for v in values]
        if wanted(headers):
            return index, headers
    return None


# --- long form ------------------------------------------------------------------------------


def _is_long_header(headers):
    return "科目编码" in headers and "年度" in headers and "阶段" in headers


def parse_long(sheet: Sheet, header_index: int, headers: list[str], lookup: Lookup) -> Collector:
    collector = Collector()
    columns = {name: headers.index(name) for name in LONG_HEADERS if name in headers}
    missing = [name for name in ("年度", "预算类型", "科目编码", "阶段") if name not in columns]
    amount_column, unit = None, WAN
    for name, amount_unit in LONG_AMOUNT_HEADERS.items():
        if name in headers:
            amount_column, unit = headers.index(name), amount_unit
            break
    if amount_column is None:
        missing.append("金额(万元)")
    header_row = sheet.rows[header_index][0]
    if missing:
        collector.error(header_row, f"表头缺少必需的列：{'、'.join(missing)}")
        return collector
    kind_column = headers.index(KIND_HEADER) if KIND_HEADER in headers else None
    _merged_in(sheet, header_row + 1, collector)

    def get(values, name):
        index = columns.get(name)
        return values[index] if index is not None and index < len(values) else None

    for number, values in sheet.rows[header_index + 1 :]:
        if _blank(values):
            continue
        problems = []
        year_text = cell_text(get(values, "年度"))
        code = code_text(get(values, "科目编码"))
        name = cell_text(get(values, "科目名称"))
        if not code and any(word in (name + year_text) for word in TOTAL_WORDS):
            collector.error(number, "这是合计行：长表模板只接受明细数据，请删除合计、小计行")
            continue
        for value in values:
            if is_formula(value):
                problems.append(
                    f"单元格含公式“{str(value)[:30]}”，请先将公式转换为数值（选择性粘贴为数值）"
                )
                break
        try:
            year = int(year_text)
            if not 1990 <= year <= 2100:
                raise ValueError
        except ValueError:
            problems.append(f"年度“{year_text}”无效，应为四位数字年份")
            year = None
        month_text = cell_text(get(values, "月份"))
        try:
            month = int(month_text) if month_text else 0
            if not 0 <= month <= 12:
                raise ValueError
        except ValueError:
            problems.append(f"月份“{month_text}”无效，应为 1-12，全年数据填 0 或留空")
            month = None
        budget_text = cell_text(get(values, "预算类型"))
        budget = BUDGET_ALIASES.get(budget_text)
        if budget is None:
            problems.append(f"预算类型“{budget_text}”无效，应为{'、'.join(BudgetKind.labels)}之一")
        phase_text = cell_text(get(values, "阶段"))
        phase = PHASE_ALIASES.get(phase_text)
        if phase is None:
            problems.append(
                f"阶段“{phase_text}”无效，应为 年初预算、调整预算、执行（本月执行）、累计执行、决算 之一"
            )
        kind = ClassificationKind.FUNCTION
        if kind_column is not None and kind_column < len(values):
            kind_text = cell_text(values[kind_column])
            if kind_text:
                kind = KIND_ALIASES.get(kind_text)
                if kind is None:
                    problems.append(f"科目分类“{kind_text}”无效")
        if phase is not None and month is not None:
            if phase in (Phase.EXECUTION, Phase.CUMULATIVE) and month == 0:
                problems.append("执行数必须填写月份（1-12）")
            if phase in (Phase.INITIAL, Phase.FINAL) and month != 0:
                problems.append(f"{Phase(phase).label}是全年数，月份应填 0 或留空")
        subject = None
        if not code:
            problems.append("科目编码为空")
        elif not code.isdigit():
            problems.append(f"科目编码“{code}”应只包含数字")
        elif kind is not None and level_of(kind, code) is None:
            lengths = "/".join(str(n) for n in LEVEL_LENGTHS[kind])
            problems.append(f"科目编码 {code} 的位数不对（应为 {lengths} 位）")
        elif year is not None and kind is not None:
            subject = lookup.subject(year, kind, code, name, number)
            if isinstance(subject, str):
                problems.append(subject)
                subject = None
            elif name and not _same_name(name, subject[1]):
                collector.warn(
                    number,
                    f"科目名称“{name}”与 {year} 年科目表中的“{subject[1]}”不一致，按编码导入",
                )
        department_id = None
        department_code = code_text(get(values, "单位编码"))
        if department_code:
            found = lookup.departments.get(department_code)
            if found is None:
                problems.append(f"单位编码 {department_code} 不存在，请先在预算单位中录入")
            else:
                department_id = found[0]
                department_name = cell_text(get(values, "单位名称"))
                if department_name and not _same_name(department_name, found[1]):
                    collector.warn(
                        number, f"单位名称“{department_name}”与登记的“{found[1]}”不一致，按编码导入"
                    )
        raw_amount = values[amount_column] if amount_column < len(values) else None
        amount = None
        if not is_formula(raw_amount):
            try:
                amount = parse_amount(raw_amount, unit)
                if amount is None:
                    problems.append("金额为空")
            except AmountError as error:
                problems.append(str(error))
        if problems:
            collector.error(number, "；".join(problems))
            continue
        collector.add(
            ParsedFigure(
                row=number,
                year=year,
                month=month,
                budget=budget,
                kind=kind,
                code=code,
                subject_id=subject[0],
                department_id=department_id,
                phase=phase,
                amount=amount,
            )
        )
    return collector


# --- wide execution table --------------------------------------------------------------------


def _is_wide_header(headers):
    has_code = any(h in CODE_HEADERS for h in headers)
    return has_code and any(h in WIDE_COLUMNS for h in headers)


def _wide_header(sheet: Sheet):
    """The header row, joined with the row below when the measures sit there (two-row headers)."""
    for index, (_number, values) in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        headers = [header_text(v) for v in values]
        if not any(h in CODE_HEADERS for h in headers):
            continue
        if any(h in WIDE_COLUMNS for h in headers):
            return index, headers, index + 1
        if index + 1 < len(sheet.rows):
            below = [header_text(v) for v in sheet.rows[index + 1][1]]
            width = max(len(headers), len(below))
            joined = [
                (below[i] if i < len(below) and below[i] else "")
                or (headers[i] if i < len(headers) else "")
                for i in range(width)
            ]
            if any(h in WIDE_COLUMNS for h in joined):
                return index, joined, index + 2
    return None


def parse_wide(sheet: Sheet, filename: str, options: ImportOptions, lookup: Lookup):
    collector = Collector()
    found = _wide_header(sheet)
    header_index, headers, data_index = found
    header_row = sheet.rows[header_index][0]
    above = " ".join(
        cell_text(v) for _n, values in sheet.rows[:header_index] for v in values if v is not None
    )
    meta = metadata_from_text(filename) | metadata_from_text(sheet.title_hint)
    meta |= metadata_from_text(above)
    for key in ("year", "month", "budget", "kind"):
        given = getattr(options, key)
        if given:
            meta[key] = given
    unit_match = _UNIT.search(above)
    unit = unit_match.group(1) if unit_match else WAN
    missing = [
        label
        for key, label in (
            ("year", "年度（--year）"),
            ("month", "月份（--month）"),
            ("budget", "预算类型（--budget）"),
        )
        if not meta.get(key)
    ]
    if missing:
        collector.error(
            header_row,
            f"无法从标题或文件名中识别{'、'.join(missing)}；请在标题中写明，"
            "例如“2026年1-9月一般公共预算支出执行情况表”，或在导入时指定",
        )
        return collector, meta, unit
    year, month, budget = int(meta["year"]), int(meta["month"]), meta["budget"]
    kind = meta.get("kind") or ClassificationKind.FUNCTION
    if not 1 <= month <= 12:
        collector.error(header_row, f"月份 {month} 无效，应为 1-12")
        return collector, meta, unit
    code_column = next(i for i, h in enumerate(headers) if h in CODE_HEADERS)
    name_column = next((i for i, h in enumerate(headers) if h in NAME_HEADERS), None)
    measure_columns = [(i, WIDE_COLUMNS[h]) for i, h in enumerate(headers) if h in WIDE_COLUMNS]
    first_data_row = sheet.rows[data_index][0] if data_index < len(sheet.rows) else header_row + 1
    _merged_in(sheet, first_data_row, collector)

    values_by_code: dict[str, dict] = {}
    rows_by_code: dict[str, int] = {}
    totals = []
    for number, values in sheet.rows[data_index:]:
        if _blank(values):
            continue
        code = code_text(values[code_column]) if code_column < len(values) else ""
        name = (
            cell_text(values[name_column])
            if name_column is not None and name_column < len(values)
            else ""
        )
        amounts, problems = {}, []
        for column, phase in measure_columns:
            raw = values[column] if column < len(values) else None
            if is_formula(raw):
                problems.append(f"{headers[column]}是公式“{str(raw)[:30]}”，请先将公式转换为数值")
                continue
            try:
                amount = parse_amount(raw, unit)
            except AmountError as error:
                problems.append(f"{headers[column]}：{error}")
                continue
            if amount is not None:
                amounts[phase] = amount
        label = name or code
        if not code:
            if any(word in re.sub(r"\s+", "", label) for word in TOTAL_WORDS) or (
                label.startswith("本表") or label.startswith("注")
            ):
                if problems:
                    collector.error(number, "；".join(problems))
                elif amounts:
                    totals.append((number, amounts))
                continue
            if not label and not amounts:
                continue
            collector.error(number, f"“{label}”没有科目编码，无法导入")
            continue
        if not code.isdigit():
            if code in TOTAL_WORDS or any(word in code for word in TOTAL_WORDS):
                if amounts and not problems:
                    totals.append((number, amounts))
                continue
            collector.error(number, f"科目编码“{code}”应只包含数字")
            continue
        if level_of(kind, code) is None:
            lengths = "/".join(str(n) for n in LEVEL_LENGTHS[kind])
            problems.append(f"科目编码 {code} 的位数不对（应为 {lengths} 位）")
        else:
            subject = lookup.subject(year, kind, code, name, number)
            if isinstance(subject, str):
                problems.append(subject)
        if problems:
            collector.error(number, "；".join(problems))
            continue
        if name and not _same_name(name, subject[1]):
            collector.warn(
                number, f"科目名称“{name}”与 {year} 年科目表中的“{subject[1]}”不一致，按编码导入"
            )
        if code in rows_by_code:
            collector.error(number, f"科目编码 {code} 与第 {rows_by_code[code]} 行重复")
            continue
        rows_by_code[code] = number
        values_by_code[code] = amounts
        for phase, amount in amounts.items():
            collector.add(
                ParsedFigure(
                    row=number,
                    year=year,
                    month=0 if phase in (Phase.INITIAL, Phase.FINAL) else month,
                    budget=budget,
                    kind=kind,
                    code=code,
                    subject_id=subject[0],
                    department_id=None,
                    phase=phase,
                    amount=amount,
                )
            )
    _check_subtotals(
        values_by_code, rows_by_code, totals, kind, headers, measure_columns, collector
    )
    return collector, {"year": year, "month": month, "budget": budget, "kind": kind}, unit


def _check_subtotals(values_by_code, rows_by_code, totals, kind, headers, columns, collector):
    """类/款 rows must equal the sum of their rows below; 合计 the sum of the 类 rows.
    Each part may be rounded to 0.01 万元, so the sum may differ by half a cent per part."""
    labels = {phase: headers[i] for i, phase in columns}
    children = defaultdict(list)
    for code in values_by_code:
        parent = parent_code(kind, code)
        if parent in values_by_code:
            children[parent].append(code)
    for parent, kids in children.items():
        for phase, given in values_by_code[parent].items():
            parts = [values_by_code[k][phase] for k in kids if phase in values_by_code[k]]
            if not parts:
                continue
            total = sum(parts, Decimal(0))
            if abs(total - given) > Decimal(50) * len(parts) + Decimal("0.01"):
                collector.error(
                    rows_by_code[parent],
                    f"科目 {parent} 的{labels[phase]} {format_wan(given)} 万元与其下级科目之和 "
                    f"{format_wan(total)} 万元不符",
                )
    top_length = LEVEL_LENGTHS[kind][0]
    tops = [c for c in values_by_code if len(c) == top_length]
    for number, amounts in totals[:1]:
        for phase, given in amounts.items():
            parts = [values_by_code[c][phase] for c in tops if phase in values_by_code[c]]
            if not parts:
                continue
            total = sum(parts, Decimal(0))
            if abs(total - given) > Decimal(50) * len(parts) + Decimal("0.01"):
                collector.error(
                    number,
                    f"合计行的{labels[phase]} {format_wan(given)} 万元与各类之和 "
                    f"{format_wan(total)} 万元不符",
                )


# --- storing a batch ---------------------------------------------------------------------------


def _scope_of(figures: list[ParsedFigure]):
    groups = sorted(
        {(f.year, f.budget, f.kind, f.phase, f.month, f.department_id or 0) for f in figures}
    )
    digest = hashlib.sha256(repr(groups).encode()).hexdigest()
    return groups, digest


def scope_label(groups) -> str:
    parts = defaultdict(lambda: defaultdict(set))
    departments = set()
    for year, budget, _kind, phase, month, department in groups:
        parts[(year, budget)][phase].add(month)
        if department:
            departments.add(department)
    texts = []
    for (year, budget), phases in sorted(parts.items()):
        phase_texts = []
        for phase, months in phases.items():
            months = sorted(m for m in months if m)
            when = ""
            if months:
                when = f"{months[0]}月" if len(months) == 1 else f"{months[0]}-{months[-1]}月"
            phase_texts.append(f"{Phase(phase).label}{when}")
        texts.append(f"{year}年{BudgetKind(budget).label}（{'、'.join(phase_texts)}）")
    label = "；".join(texts)
    if departments:
        label += f"；{len(departments)} 个单位"
    return label[:500]


def _existing_in_scope(groups) -> dict:
    """Figures already stored in the groups of the new batch, by key. One query over the
    years, budgets, kinds, phases and months involved; departments are sorted out here."""
    wanted = set(groups)
    found = {}
    rows = Figure.objects.filter(
        year__in={g[0] for g in groups},
        budget__in={g[1] for g in groups},
        kind__in={g[2] for g in groups},
        phase__in={g[3] for g in groups},
        month__in={g[4] for g in groups},
    ).values_list(
        "pk",
        "batch_id",
        "year",
        "month",
        "budget",
        "kind",
        "code",
        "department_id",
        "phase",
        "amount",
    )
    for pk, batch_id, year, month, budget, kind, code, department, phase, amount in rows:
        if (year, budget, kind, phase, month, department or 0) in wanted:
            found[(year, month, budget, kind, code, department, phase)] = (pk, batch_id, amount)
    return found


def _describe_key(key) -> str:
    year, month, budget, _kind, code, department, phase = key
    when = f"{year}年{month}月" if month else f"{year}年"
    where = f" 单位#{department}" if department else ""
    return f"{when} {BudgetKind(budget).label} {code}{where} {Phase(phase).label}"


def _changes(existing: dict, figures: list[ParsedFigure]) -> dict:
    new = {f.key: f.amount for f in figures}
    added = [k for k in new if k not in existing]
    removed = [k for k in existing if k not in new]
    changed = [k for k in new if k in existing and existing[k][2] != new[k]]
    samples = []
    for key in changed[:SAMPLE_CHANGES]:
        samples.append(
            {
                "figure": _describe_key(key),
                "old": format_wan(existing[key][2]),
                "new": format_wan(new[key]),
            }
        )
    for key in removed[: max(0, SAMPLE_CHANGES - len(samples))]:
        samples.append(
            {"figure": _describe_key(key), "old": format_wan(existing[key][2]), "new": ""}
        )
    return {
        "added": len(added),
        "changed": len(changed),
        "removed": len(removed),
        "unchanged": len(new) - len(added) - len(changed),
        "samples": samples,
    }


FIGURE_COLUMNS = [
    "batch",
    "year",
    "month",
    "budget",
    "kind",
    "code",
    "subject",
    "department",
    "phase",
    "amount",
]


def _figure_values(batch_id: int, f: ParsedFigure) -> tuple:
    return (
        batch_id,
        f.year,
        f.month,
        f.budget,
        f.kind,
        f.code,
        f.subject_id,
        f.department_id,
        f.phase,
        f.amount,
    )


def _insert_figures(batch_id: int, figures: list[ParsedFigure]) -> None:
    """PostgreSQL: one COPY. Elsewhere: one prepared INSERT run by the driver for many rows
    (bulk_create spends most of its time preparing each field, which for 100,000 rows
    costs more than the database does)."""
    table = connection.ops.quote_name(Figure._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(Figure._meta.get_field(n).column) for n in FIGURE_COLUMNS
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for f in figures:
                    copy.write_row(_figure_values(batch_id, f))
        return
    marks = ", ".join(["%s"] * len(FIGURE_COLUMNS))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
    adapt = connection.ops.adapt_decimalfield_value
    with connection.cursor() as cursor:
        for start in range(0, len(figures), BULK_SIZE * 10):
            chunk = figures[start : start + BULK_SIZE * 10]
            cursor.executemany(
                sql,
                [(*_figure_values(batch_id, f)[:-1], adapt(f.amount, 18, 2)) for f in chunk],
            )


def _delete_stale(existing: dict) -> None:
    """Remove the figures the new batch replaces: whole earlier batches by batch id (one
    DELETE each), the rest by primary key."""
    stale_by_batch = Counter(batch_id for _pk, batch_id, _a in existing.values())
    if not stale_by_batch:
        return
    stored = dict(
        Figure.objects.filter(batch_id__in=list(stale_by_batch))
        .values_list("batch_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    whole = {b for b, n in stale_by_batch.items() if stored.get(b) == n}
    if whole:
        Figure.objects.filter(batch_id__in=whole)._raw_delete(Figure.objects.db)
    rest = [pk for pk, batch_id, _a in existing.values() if batch_id not in whole]
    if connection.vendor == "postgresql" and rest:
        table = connection.ops.quote_name(Figure._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE id = ANY(%s)", [rest])
        return
    for start in range(0, len(rest), 900):
        Figure.objects.filter(pk__in=rest[start : start + 900])._raw_delete(Figure.objects.db)


def _store_new_subjects(collector) -> None:
    """Create the subjects the file adds (parents by code length, from the stored
    classification or this file) and point their figures at them."""
    if not collector.new_subjects:
        return
    created = {}
    keys = sorted(collector.new_subjects, key=lambda k: (k[0], k[1], len(k[2]), k[2]))
    for year, kind, code in keys:
        parent_key = (year, kind, parent_code(kind, code))
        parent = created.get(parent_key)
        if parent is None and parent_key[2]:
            parent = Subject.objects.filter(year=year, kind=kind, code=parent_key[2]).first()
        subject, _new = Subject.objects.get_or_create(
            year=year,
            kind=kind,
            code=code,
            defaults={"name": collector.new_subjects[(year, kind, code)], "parent": parent},
        )
        created[(year, kind, code)] = subject
    for figure in collector.figures:
        if figure.subject_id is None:
            figure.subject_id = created[(figure.year, figure.kind, figure.code)].pk


@transaction.atomic
def store_batch(collector, content, filename, file_format, user=None, username=""):
    _store_new_subjects(collector)
    groups, digest = _scope_of(collector.figures)
    existing = _existing_in_scope(groups)
    changes = _changes(existing, collector.figures)
    touched_batches = {batch_id for _pk, batch_id, _a in existing.values()}
    same_scope = list(
        ImportBatch.objects.filter(scope=digest, status=BatchStatus.ACTIVE).order_by("-pk")
    )
    batch = ImportBatch(
        filename=filename[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        file_format=file_format,
        imported_by=user if user is not None and user.is_authenticated else None,
        imported_by_name=username or (user.get_username() if user else ""),
        rows=len(collector.figures),
        scope=digest,
        scope_label=scope_label(groups),
        replaces=same_scope[0] if same_scope else None,
        changes=changes,
    )
    batch.file.save(filename.rsplit("/", 1)[-1][:100] or "import", ContentFile(content), save=False)
    batch.save()
    _delete_stale(existing)
    _insert_figures(batch.pk, collector.figures)
    build_rollups_for({(year, budget, kind) for year, budget, kind, *_rest in groups})
    emptied = [
        pk
        for pk in touched_batches | {b.pk for b in same_scope}
        if not Figure.objects.filter(batch_id=pk).exists()
    ]
    ImportBatch.objects.filter(pk__in=emptied).update(status=BatchStatus.SUPERSEDED)
    return batch


def import_file(
    content: bytes,
    filename: str,
    options: ImportOptions | None = None,
    user=None,
    username: str = "",
) -> ImportResult:
    """Read, validate and (only when every row is good) store one file as one batch."""
    options = options or ImportOptions()
    try:
        sheet = read_table(content, filename)
    except ImportRefused as error:
        return ImportResult(status="error", errors=[RowError(None, str(error))])
    if not sheet.rows or all(_blank(values) for _n, values in sheet.rows):
        return ImportResult(status="error", errors=[RowError(None, "文件中没有任何内容")])
    lookup = Lookup()
    long_header = _find_header(sheet, _is_long_header)
    if long_header is not None:
        collector = parse_long(sheet, *long_header, lookup)
        file_format = BatchFormat.LONG
    elif _wide_header(sheet) is not None:
        collector, _meta, _unit = parse_wide(sheet, filename, options, lookup)
        file_format = BatchFormat.WIDE
    else:
        return ImportResult(
            status="error",
            errors=[
                RowError(
                    None,
                    "未找到表头：长表模板需要“年度、月份、预算类型、科目编码、科目名称、单位编码、"
                    "单位名称、阶段、金额(万元)”各列；执行情况表需要“科目编码”和“年初预算数、"
                    "调整预算数、本月执行数、累计执行数”中的至少一列",
                )
            ],
        )
    if not collector.errors and not collector.figures:
        collector.error(None, "表头之后没有数据行")
    collector.new_subjects = {key: name for key, (name, _row) in lookup.new_subjects.items()}
    lookup.new_subject_warnings(collector)
    for note in sheet.notes:
        collector.warn(None, note)
    if collector.errors:
        errors = sorted(collector.errors, key=lambda e: e.row or 0)
        if len(errors) > MAX_REPORTED_ERRORS:
            hidden = len(errors) - MAX_REPORTED_ERRORS
            errors = errors[:MAX_REPORTED_ERRORS] + [
                RowError(None, f"另有 {hidden} 处错误未列出，请先修正以上错误")
            ]
        return ImportResult(
            status="error",
            errors=errors,
            warnings=collector.warnings,
            file_format=file_format,
        )
    batch = store_batch(collector, content, filename, file_format, user=user, username=username)
    transaction.on_commit(lambda: _after_import(batch.pk))
    return ImportResult(
        status="ok",
        rows=batch.rows,
        batch=batch.pk,
        warnings=collector.warnings,
        changes=batch.changes,
        scope_label=batch.scope_label,
        file_format=file_format,
    )


def _after_import(batch_id: int) -> None:
    # supervision/ listens and evaluates its alert rules in the worker
    from .signals import figures_imported

    figures_imported.send(sender=ImportBatch, batch_id=batch_id)


# --- the downloadable template -----------------------------------------------------------------

TEMPLATE_EXAMPLE = [
    ["2026", "0", "一般公共预算", "2010101", "行政运行", "", "", "年初预算", "312.50"],
    ["2026", "9", "一般公共预算", "2010101", "行政运行", "", "", "调整预算", "320.00"],
    ["2026", "9", "一般公共预算", "2010101", "行政运行", "", "", "执行", "25.30"],
    ["2026", "9", "一般公共预算", "2010101", "行政运行", "", "", "累计执行", "236.80"],
]


def template_csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(TEMPLATE_HEADERS)
    writer.writerows(TEMPLATE_EXAMPLE)
    return buffer.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "预算数据"
    sheet.append(TEMPLATE_HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in TEMPLATE_EXAMPLE:
        sheet.append([int(row[0]), int(row[1]), *row[2:8], Decimal(row[8])])
    for column, width in zip("ABCDEFGHI", (8, 6, 16, 12, 24, 12, 24, 12, 14), strict=True):
        sheet.column_dimensions[column].width = width
    notes = workbook.create_sheet("填写说明")
    for line in TEMPLATE_NOTES:
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


TEMPLATE_NOTES = [
    "每行一个数据，第一行为表头，请勿改动表头文字。",
    "年度：四位数字，如 2026。",
    "月份：1-12；年初预算、决算等全年数据填 0 或留空；调整预算填调整生效的月份（或 0）。",
    "预算类型：一般公共预算、政府性基金预算、国有资本经营预算、社会保险基金预算。",
    "科目编码：当年政府收支分类科目编码，类/款/项分别为 3/5/7 位；须已录入当年科目表。",
    "单位编码、单位名称：按单位填报时填写，全县合计数留空；单位须已登记。",
    "阶段：年初预算、调整预算、执行（本月执行数）、累计执行、决算。",
    "金额(万元)：数字，最多六位小数（精确到元以下两位）；不得填写公式、文字或合计行。",
    "同一年度、月份、预算、科目、单位和阶段只能出现一行；同一范围重新导入将替换原批次。",
]
