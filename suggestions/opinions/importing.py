"""Import of budget review opinions from a spreadsheet (XLSX): every row is checked first,
errors are reported per row in Chinese, and then all rows are saved or none.

Columns (first row, any order; * = required):
  预算年度*, 审议阶段*, 意见要点*, 意见内容*, 提出者*,
  提出方, 出处, 期号, 提出日期, 科目编码, 单位编码, 处理情况, 反馈说明, 反馈日期.
审议阶段, 提出方 and 处理情况 take the labels shown on the pages (大会审议, 代表团, 已采纳 …).
Several 科目编码 or 单位编码 are separated by 、 , ， ; or ；; a subject code must exist in the
classification of the 预算年度. A row equal to an existing opinion (year, stage, title) is an
error, so importing the same file twice adds nothing.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from budget.models import Department, Subject

from .choices import HandlingStatus, RaisedByKind, ReviewStage
from .models import ReviewOpinion

REQUIRED = ["预算年度", "审议阶段", "意见要点", "意见内容", "提出者"]
OPTIONAL = [
    "提出方",
    "出处",
    "期号",
    "提出日期",
    "科目编码",
    "单位编码",
    "处理情况",
    "反馈说明",
    "反馈日期",
]
SPLIT = re.compile(r"[、,，;；\s]+")
MAX_ROWS = 2000
MAX_BYTES = 10 * 1024 * 1024


@dataclass
class RowError:
    row: int
    message: str

    def __str__(self):
        return f"第 {self.row} 行：{self.message}" if self.row else self.message


@dataclass
class ImportResult:
    errors: list[RowError] = field(default_factory=list)
    created: list[ReviewOpinion] = field(default_factory=list)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def _label_map(choices) -> dict[str, str]:
    return {label: value for value, label in choices.choices} | {v: v for v in choices.values}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _date(value, label: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value).replace("/", "-").replace(".", "-")
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{label}“{text}”不是有效日期，应写作 2026-01-15") from None


def _int(value, label: str, low: int, high: int) -> int | None:
    text = _text(value)
    if not text:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValidationError(f"{label}“{text}”应为 {low} 到 {high} 之间的整数")
    return int(text)


def read_rows(data: bytes) -> tuple[list[str], list[tuple]]:
    """Header and data rows of the first sheet; a Chinese ValidationError for a bad file."""
    if len(data) > MAX_BYTES:
        raise ValidationError(f"文件超过 {MAX_BYTES // (1024 * 1024)} MB")
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise ValidationError("无法读取文件：请上传 Excel 工作簿（.xlsx）") from None
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    workbook.close()
    if not rows:
        raise ValidationError("工作表是空的")
    header = [_text(h) for h in rows[0]]
    body = [r for r in rows[1:] if any(_text(c) for c in r)]
    if len(body) > MAX_ROWS:
        raise ValidationError(f"一次最多导入 {MAX_ROWS} 行")
    return header, body


@dataclass
class _Parsed:
    opinion: ReviewOpinion
    subjects: list
    departments: list


def _parse(values: dict, seen: set) -> _Parsed:
    stages = _label_map(ReviewStage)
    kinds = _label_map(RaisedByKind)
    statuses = _label_map(HandlingStatus)
    problems = []
    for name in REQUIRED:
        if not _text(values.get(name)):
            problems.append(f"缺少{name}")
    if problems:
        raise ValidationError("；".join(problems))
    year = _int(values["预算年度"], "预算年度", 1990, 2100)
    stage = stages.get(_text(values["审议阶段"]))
    if stage is None:
        raise ValidationError(
            f"审议阶段“{_text(values['审议阶段'])}”无效，应为：{'、'.join(ReviewStage.labels)}"
        )
    kind_text = _text(values.get("提出方")) or RaisedByKind.DEPUTY.label
    kind = kinds.get(kind_text)
    if kind is None:
        raise ValidationError(f"提出方“{kind_text}”无效，应为：{'、'.join(RaisedByKind.labels)}")
    status_text = _text(values.get("处理情况")) or HandlingStatus.PENDING.label
    status = statuses.get(status_text)
    if status is None:
        raise ValidationError(
            f"处理情况“{status_text}”无效，应为：{'、'.join(HandlingStatus.labels)}"
        )
    title = _text(values["意见要点"])[:200]
    key = (year, stage, title)
    if key in seen:
        raise ValidationError("与本文件前面的行重复（同一年度、阶段和意见要点）")
    if ReviewOpinion.objects.filter(year=year, stage=stage, title=title).exists():
        raise ValidationError("系统中已有同一年度、阶段和意见要点的审议意见")
    seen.add(key)
    codes = [c for c in SPLIT.split(_text(values.get("科目编码"))) if c]
    subjects = list(Subject.objects.filter(year=year, code__in=codes))
    missing = sorted(set(codes) - {s.code for s in subjects})
    if missing:
        raise ValidationError(f"{year}年科目表中没有编码 {'、'.join(missing)}")
    unit_codes = [c for c in SPLIT.split(_text(values.get("单位编码"))) if c]
    departments = list(Department.objects.filter(code__in=unit_codes))
    missing = sorted(set(unit_codes) - {d.code for d in departments})
    if missing:
        raise ValidationError(f"没有单位编码 {'、'.join(missing)}")
    opinion = ReviewOpinion(
        year=year,
        stage=stage,
        title=title,
        text=_text(values["意见内容"]),
        raised_by=_text(values["提出者"])[:100],
        raised_by_kind=kind,
        source_title=_text(values.get("出处"))[:100],
        source_issue=_int(values.get("期号"), "期号", 1, 999),
        raised_on=_date(values.get("提出日期"), "提出日期"),
        handling_status=status,
        response=_text(values.get("反馈说明")),
        responded_on=_date(values.get("反馈日期"), "反馈日期"),
    )
    opinion.full_clean(exclude=["subjects", "departments"])
    return _Parsed(opinion, subjects, departments)


def import_opinions(data: bytes, user=None) -> ImportResult:
    """Check every row, then save them all in one transaction (or nothing)."""
    result = ImportResult()
    try:
        header, body = read_rows(data)
    except ValidationError as error:
        result.errors.append(RowError(0, "；".join(error.messages)))
        return result
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        result.errors.append(RowError(1, f"表头缺少列：{'、'.join(missing)}"))
        return result
    known = set(REQUIRED) | set(OPTIONAL)
    columns = {i: name for i, name in enumerate(header) if name in known}
    parsed: list[_Parsed] = []
    seen: set = set()
    for offset, raw in enumerate(body, start=2):
        values = {name: raw[i] if i < len(raw) else None for i, name in columns.items()}
        try:
            parsed.append(_parse(values, seen))
        except ValidationError as error:
            result.errors.append(RowError(offset, "；".join(error.messages)))
    result.rows = len(body)
    if result.errors:
        return result
    with transaction.atomic():
        for item in parsed:
            item.opinion.created_by = user if getattr(user, "is_authenticated", False) else None
            item.opinion.save()
            item.opinion.subjects.set(item.subjects)
            item.opinion.departments.set(item.departments)
            result.created.append(item.opinion)
    return result


def template_workbook() -> bytes:
    """An empty workbook with the header row and one example row."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "预算审议意见"
    sheet.append(REQUIRED + OPTIONAL)
    sheet.append(
        [
            2026, "大会审议", "加大农村饮水安全投入", "山区乡镇季节性缺水，建议单列资金。",
            "羊街乡代表团", "代表团", "大会简报", 3, "2026-01-12", "21303", "035",
            "待反馈", "", "",
        ]
    )  # fmt: skip
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
