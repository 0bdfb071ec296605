"""Import of the office's assignment list (交办清单, XLSX): every row checked first, row-level
Chinese errors, and then all rows or none.

Columns (first row, any order; * = required):
  编号*, 标题*, 领衔代表*, 分类*, 主办单位*, 交办日期*,
  协办单位, 附议代表, 代表团, 类型, 提出时间 (大会期间 / 闭会期间), 提出日期, 届次, 会次, 内容, 公开.
Units are matched by 单位编码 or 单位名称 (``006`` / ``县财政局`` / ``006 县财政局``); several
协办单位 or 附议代表 are separated by 、 , ， ; or ；. Each row goes through the services:
提出 → 登记 → 交办 on its 交办日期, so every item has its timeline and due dates.
"""

import datetime
import io
import re
import zipfile
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from budget.models import Department

from . import services
from .choices import Period, SuggestionKind
from .models import Category, Deputy, Session, Suggestion, Term

REQUIRED = ["编号", "标题", "领衔代表", "分类", "主办单位", "交办日期"]
OPTIONAL = [
    "协办单位",
    "附议代表",
    "代表团",
    "类型",
    "提出时间",
    "提出日期",
    "届次",
    "会次",
    "内容",
    "公开",
]
ALIASES = {"案由": "标题", "标题（案由）": "标题", "领衔人": "领衔代表", "承办单位": "主办单位"}
SPLIT = re.compile(r"[、,，;；\n]+")
MAX_ROWS = 5000


@dataclass
class RowError:
    row: int
    message: str

    def __str__(self):
        return f"第 {self.row} 行：{self.message}" if self.row else self.message


@dataclass
class ImportResult:
    errors: list[RowError] = field(default_factory=list)
    created: list[Suggestion] = field(default_factory=list)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "created": [s.code for s in self.created],
            "errors": [str(e) for e in self.errors],
        }


@dataclass
class Row:
    line: int
    number: int
    title: str
    session: Session
    category: Category
    lead_deputy: Deputy
    co_signers: list
    lead_unit: Department
    co_units: list
    assigned_on: datetime.date
    submitted_on: datetime.date
    kind: str
    period: str
    content: str
    is_public: bool


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


DATE_PATTERNS = [
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
]


def parse_date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    for pattern in DATE_PATTERNS:
        if m := pattern.match(text):
            try:
                return datetime.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                break
    raise ValueError(f"日期“{text}”无法识别，应写作 2026-03-15")


def _chinese_or_int(text: str) -> int:
    text = (
        text.strip().removeprefix("第").removesuffix("届").removesuffix("次会议").removesuffix("次")
    )
    if text.isdigit():
        return int(text)
    digits = "〇一二三四五六七八九"
    if text and all(c in digits + "十" for c in text):
        if "十" in text:
            tens, _, ones = text.partition("十")
            return (digits.index(tens) if tens else 1) * 10 + (digits.index(ones) if ones else 0)
        return int("".join(str(digits.index(c)) for c in text))
    raise ValueError(text)


class _Units:
    def __init__(self):
        self.by_code = {}
        self.by_name = {}
        for d in Department.objects.filter(is_active=True):
            self.by_code[d.code] = d
            self.by_name.setdefault(d.name, []).append(d)

    def find(self, text: str) -> Department:
        text = text.strip()
        if text in self.by_code:
            return self.by_code[text]
        code, _, name = text.partition(" ")
        if name and code in self.by_code and self.by_code[code].name == name.strip():
            return self.by_code[code]
        found = self.by_name.get(text, [])
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise ValueError(f"单位名称“{text}”不唯一，请写单位编码")
        raise ValueError(f"找不到单位“{text}”（请用预算单位名录中的编码或名称）")


def _find_deputy(name: str, delegation: str, term: Term) -> Deputy:
    qs = Deputy.objects.filter(name=name)
    if delegation:
        qs = qs.filter(delegation=delegation)
    found = list(qs[:3])
    if len(found) > 1:
        in_term = [d for d in found if d.terms.filter(pk=term.pk).exists()]
        if len(in_term) == 1:
            return in_term[0]
        raise ValueError(f"代表“{name}”有重名，请填写“代表团”列")
    if not found:
        raise ValueError(
            f"找不到代表“{name}”{f'（{delegation}）' if delegation else ''}，请先在代表名册中登记"
        )
    return found[0]


def read_rows(data: bytes) -> tuple[list[str], list[tuple[int, list]]]:
    """Header names and (line number, values) of the first sheet; Chinese ValueError if unreadable."""
    from openpyxl import load_workbook

    if not data:
        raise ValueError("文件是空的")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise ValueError(
            "无法读取文件：不是有效的 XLSX 表格（请用 Excel 或 WPS 另存为 .xlsx）"
        ) from error
    except Exception as error:  # openpyxl raises assorted errors on damaged files
        raise ValueError("无法读取文件：表格已损坏或格式不受支持") from error
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None:
        raise ValueError("表格中没有工作表")
    rows = sheet.iter_rows(values_only=True)
    header = None
    body = []
    for line, values in enumerate(rows, start=1):
        values = list(values)
        if header is None:
            if any(_text(v) for v in values):
                header = [ALIASES.get(_text(v), _text(v)) for v in values]
                header_line = line
            continue
        if not any(_text(v) for v in values):
            continue
        body.append((line, values))
        if len(body) > MAX_ROWS:
            raise ValueError(f"一次最多导入 {MAX_ROWS} 行")
    book.close()
    if header is None:
        raise ValueError("表格是空的：没有表头")
    del header_line
    return header, body


def validate(data: bytes, session: Session | None = None) -> tuple[list[Row], list[RowError], int]:
    try:
        header, body = read_rows(data)
    except ValueError as error:
        return [], [RowError(0, str(error))], 0
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        return (
            [],
            [RowError(1, f"缺少必需的列：{'、'.join(missing)}（表头应有 {'、'.join(REQUIRED)}）")],
            0,
        )
    unknown = [h for h in header if h and h not in REQUIRED + OPTIONAL]
    errors: list[RowError] = []
    if unknown:
        errors.append(RowError(1, f"无法识别的列：{'、'.join(unknown)}"))
    if not body:
        return [], [RowError(0, "表格中没有数据行")], 0
    units = _Units()
    index = {name: header.index(name) for name in REQUIRED + OPTIONAL if name in header}
    rows: list[Row] = []
    seen_numbers = {}
    kinds = {label: value for value, label in SuggestionKind.choices}
    periods = {label: value for value, label in Period.choices}
    for line, values in body:

        def cell(name, values=values):
            i = index.get(name)
            return values[i] if i is not None and i < len(values) else None

        problems = []
        try:
            number = int(_text(cell("编号")).lstrip("第").rstrip("号").split("-")[-1])
            if number < 1:
                raise ValueError
        except ValueError:
            problems.append(f"编号“{_text(cell('编号'))}”应为正整数")
            number = None
        title = _text(cell("标题"))
        if not title:
            problems.append("标题不能为空")
        elif len(title) > 300:
            problems.append("标题超过 300 字")
        row_session = session
        if _text(cell("届次")) or _text(cell("会次")):
            try:
                term_no = _chinese_or_int(_text(cell("届次")))
                session_no = _chinese_or_int(_text(cell("会次")))
                row_session = Session.objects.select_related("term").get(
                    term__number=term_no, number=session_no
                )
            except (ValueError, Session.DoesNotExist):
                problems.append(f"找不到届次“{_text(cell('届次'))}”会次“{_text(cell('会次'))}”")
                row_session = None
        elif row_session is None:
            problems.append("没有指定届次会次（在表中加“届次”“会次”列，或导入时选择）")
        category = None
        if row_session is not None:
            name = _text(cell("分类"))
            category = Category.objects.filter(term=row_session.term, name=name).first()
            if category is None:
                problems.append(f"分类“{name}”不在{row_session.term}的分类中")
        lead = None
        co_signers = []
        if row_session is not None:
            try:
                lead = _find_deputy(
                    _text(cell("领衔代表")), _text(cell("代表团")), row_session.term
                )
            except ValueError as error:
                problems.append(str(error))
            for name in filter(None, (n.strip() for n in SPLIT.split(_text(cell("附议代表"))))):
                try:
                    co_signers.append(_find_deputy(name, "", row_session.term))
                except ValueError as error:
                    problems.append(f"附议代表：{error}")
        lead_unit = None
        try:
            lead_unit = units.find(_text(cell("主办单位")))
        except ValueError as error:
            problems.append(f"主办单位：{error}")
        co_units = []
        for name in filter(None, (n.strip() for n in SPLIT.split(_text(cell("协办单位"))))):
            try:
                co_units.append(units.find(name))
            except ValueError as error:
                problems.append(f"协办单位：{error}")
        assigned_on = submitted_on = None
        try:
            assigned_on = parse_date(cell("交办日期"))
        except ValueError as error:
            problems.append(f"交办日期：{error}")
        if _text(cell("提出日期")):
            try:
                submitted_on = parse_date(cell("提出日期"))
            except ValueError as error:
                problems.append(f"提出日期：{error}")
        submitted_on = submitted_on or assigned_on
        if assigned_on and submitted_on and submitted_on > assigned_on:
            problems.append("提出日期晚于交办日期")
        if assigned_on and assigned_on > datetime.date.today() + datetime.timedelta(days=1):
            problems.append("交办日期不能在将来")
        kind_text = _text(cell("类型")) or "建议"
        if kind_text not in kinds:
            problems.append(f"类型“{kind_text}”应为 议案、建议、批评 或 意见")
        period_text = _text(cell("提出时间")) or "大会期间"
        if period_text not in periods:
            problems.append(f"提出时间“{period_text}”应为 大会期间 或 闭会期间")
        if row_session is not None and number is not None:
            key = (row_session.pk, number)
            if key in seen_numbers:
                problems.append(f"编号 {number} 与第 {seen_numbers[key]} 行重复")
            elif Suggestion.objects.filter(session=row_session, number=number).exists():
                problems.append(f"{row_session}已有编号为 {number} 的建议")
            seen_numbers.setdefault(key, line)
        if lead_unit is not None and any(d.pk == lead_unit.pk for d in co_units):
            problems.append("主办单位不能同时是协办单位")
        if lead is not None and lead in co_signers:
            problems.append("领衔代表不能同时是附议代表")
        if problems:
            errors.extend(RowError(line, p) for p in problems)
            continue
        rows.append(
            Row(
                line=line,
                number=number,
                title=title,
                session=row_session,
                category=category,
                lead_deputy=lead,
                co_signers=co_signers,
                lead_unit=lead_unit,
                co_units=co_units,
                assigned_on=assigned_on,
                submitted_on=submitted_on,
                kind=kinds[kind_text],
                period=periods[period_text],
                content=_text(cell("内容")),
                is_public=_text(cell("公开")) in ("是", "公开", "1", "Y", "y"),
            )
        )
    return rows, errors, len(body)


def import_workbook(data: bytes, *, user, session: Session | None = None) -> ImportResult:
    """Validate every row, then create all of them (提出 → 登记 → 交办) or none."""
    if not services.is_staff(user):
        raise PermissionDenied("只有工作人员可以导入交办清单")
    rows, errors, count = validate(data, session)
    result = ImportResult(errors=errors, rows=count)
    if errors:
        return result
    try:
        with transaction.atomic():
            for row in rows:
                s = services.submit(
                    user,
                    term=row.session.term,
                    session=row.session,
                    number=row.number,
                    title=row.title,
                    content=row.content,
                    category=row.category,
                    kind=row.kind,
                    period=row.period,
                    lead_deputy=row.lead_deputy,
                    co_signers=row.co_signers,
                    is_public=row.is_public,
                    submitted_on=row.submitted_on,
                    note="导入交办清单",
                )
                services.register(s, user, "导入交办清单", on=row.submitted_on)
                services.assign(
                    s,
                    user,
                    lead_unit=row.lead_unit,
                    co_units=row.co_units,
                    assigned_on=row.assigned_on,
                )
                result.created.append(s)
    except ValidationError as error:
        result.errors.append(RowError(row.line, "；".join(error.messages)))
        result.created = []
    return result
