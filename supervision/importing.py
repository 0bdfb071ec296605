"""Importing debt data: 债务限额余额, 债券明细 and 还本付息, each from its own template.

Reading (CSV in UTF-8 or GBK, XLSX; size limit; old .xls and broken files refused) is
budget/'s reader, so the two modules accept and refuse the same files. Each kind of data
has one table of columns below; the downloadable templates are written from it.

An import is all-or-nothing, as in budget/: every bad row is reported with its row number
and a Chinese reason, and nothing is stored while any row is bad. Rows update what they
name (a year and category, a bond code, a bond and payment date) and leave the rest:
a file of this year's new bonds does not remove last year's.
"""

import csv
import datetime
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.files.base import ContentFile
from django.db import connection, models, transaction

from budget.amounts import WAN, AmountError, parse_amount
from budget.importing import (
    MAX_REPORTED_ERRORS,
    ImportRefused,
    RowError,
    _blank,
    header_text,
    max_bytes,
    read_table,
)
from budget.importing import (
    cell_text as _cell_text,
)

from .choices import (
    BOND_TYPE_ALIASES,
    CATEGORY_ALIASES,
    MODE_ALIASES,
    BondType,
    DebtCategory,
    ImportKind,
    RectificationMode,
    RectificationStatus,
)
from .models import (
    AuditFinding,
    Bond,
    DebtPosition,
    DebtYear,
    EnterpriseAssets,
    FindingEvent,
    Repayment,
    SupervisionBatch,
    UnitAssets,
)

HEADER_SEARCH_ROWS = 30
BULK_SIZE = 2000


class CellError(ValueError):
    pass


def cell_text(value) -> str:
    """budget.importing.cell_text, without NFKC for text already in NFKC form (most Chinese
    text is; normalising every cell of a 100,000-row file cost seconds)."""
    if value.__class__ is str and (value.isascii() or unicodedata.is_normalized("NFKC", value)):
        return value.strip()
    return _cell_text(value)


# --- cells ---------------------------------------------------------------------------------


def _text(value, label, max_length):
    text = cell_text(value)
    if len(text) > max_length:
        raise CellError(f"{label}超过 {max_length} 个字")
    return text


def _required_text(max_length):
    def parse(value, label):
        text = _text(value, label, max_length)
        if not text:
            raise CellError(f"{label}不能为空")
        return text

    return parse


def _code_text(max_length):
    """A required number or code: blanks removed inside, whole numbers read from XLSX as such."""

    def parse(value, label):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = re.sub(r"\s+", "", cell_text(value))
        if not text:
            raise CellError(f"{label}不能为空")
        if len(text) > max_length:
            raise CellError(f"{label}“{text[:20]}…”超过 {max_length} 个字符")
        return text

    return parse


def _optional_text(max_length):
    return lambda value, label: _text(value, label, max_length)


def _code(value, label):
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = re.sub(r"\s+", "", cell_text(value))
    if not text:
        raise CellError(f"{label}不能为空")
    if len(text) > 40:
        raise CellError(f"{label}“{text[:20]}…”超过 40 个字符")
    return text


def _year(value, label):
    text = cell_text(value)
    if not text:
        raise CellError(f"{label}不能为空")
    if not text.isdigit() or not 1990 <= int(text) <= 2100:
        raise CellError(f"{label}“{text[:20]}”不是 1990—2100 之间的四位年份")
    return int(text)


def _choice(aliases, choices, kind_label):
    def parse(value, label):
        text = cell_text(value)
        if not text:
            raise CellError(f"{label}不能为空")
        if text not in aliases:
            names = "、".join(str(label) for label in choices.labels)
            raise CellError(f"{label}“{text[:20]}”不是有效的{kind_label}（应为{names}）")
        return aliases[text]

    return parse


# a plain amount in 万元 as most files write it: at most 12 digits and 6 decimals, so that
# in 元 it is exact to the cent and within budget.amounts.MAX_YUAN
_PLAIN_WAN = re.compile(r"-?\d{1,12}(?:\.\d{1,6})?")
_TEN_THOUSAND, _CENT = Decimal(10000), Decimal("0.01")


def _wan_amount(value):
    """parse_amount(value, WAN), with a short path for plain ASCII numbers (most cells)."""
    if isinstance(value, str) and _PLAIN_WAN.fullmatch(value):
        return (Decimal(value) * _TEN_THOUSAND).quantize(_CENT)
    return parse_amount(value, WAN)


def _amount(required=True):
    def parse(value, label):
        try:
            amount = _wan_amount(value)
        except AmountError as error:
            raise CellError(f"{label}：{error}") from None
        if amount is None:
            if required:
                raise CellError(f"{label}不能为空")
            return None
        if amount < 0:
            raise CellError(f"{label}不能为负数")
        return amount

    return parse


def _signed_amount(required=True):
    """An amount that may be negative (利润总额, 净资产 of a unit in deficit)."""

    def parse(value, label):
        try:
            amount = _wan_amount(value)
        except AmountError as error:
            raise CellError(f"{label}：{error}") from None
        if amount is None and required:
            raise CellError(f"{label}不能为空")
        return amount

    return parse


def _count(value, label):
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = cell_text(value)
    if not text:
        return None
    if not text.isdigit() or int(text) > 100000:
        raise CellError(f"{label}“{text[:20]}”应为不超过 100000 的整数")
    return int(text)


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def _date(required=True):
    def parse(value, label):
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = cell_text(value)
        if not text:
            if required:
                raise CellError(f"{label}不能为空")
            return None
        match = _DATE.fullmatch(text) or (
            re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text) if text.isdigit() else None
        )
        if not match:
            raise CellError(f"{label}“{text[:20]}”不是日期（应写作 2026-03-15）")
        try:
            return datetime.date(*(int(g) for g in match.groups()))
        except ValueError:
            raise CellError(f"{label}“{text[:20]}”不是存在的日期") from None

    return parse


def _mode(value, label):
    text = cell_text(value)
    if not text:
        return RectificationMode.IMMEDIATE
    if text not in MODE_ALIASES:
        names = "、".join(str(label) for label in RectificationMode.labels)
        raise CellError(f"{label}“{text[:20]}”不是有效的整改方式（应为{names}，或留空按立行立改）")
    return MODE_ALIASES[text]


def _rate(value, label):
    text = cell_text(value).rstrip("%％").strip()
    if not text:
        raise CellError(f"{label}不能为空")
    try:
        rate = Decimal(text)
    except InvalidOperation:
        raise CellError(f"{label}“{text[:20]}”不是数字") from None
    if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(20):
        raise CellError(f"{label}“{text[:20]}”应在 0—20 之间（单位为百分之）")
    if rate != rate.quantize(Decimal("0.0001")):
        raise CellError(f"{label}“{text[:20]}”最多四位小数")
    return rate


def _term(value, label):
    text = cell_text(value)
    if not text:
        raise CellError(f"{label}不能为空")
    if not text.isdigit() or not 1 <= int(text) <= 30:
        raise CellError(f"{label}“{text[:20]}”应为 1—30 之间的整数年")
    return int(text)


# --- the tables of columns -------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    name: str
    parse: object
    required: bool = True  # the column must be present (its cells may still be optional)
    example: str = ""


COLUMNS = {
    ImportKind.POSITIONS: [
        Column("年度", "year", _year, example="2026"),
        Column(
            "债务类型",
            "category",
            _choice(CATEGORY_ALIASES, DebtCategory, "债务类型"),
            example="一般债务",
        ),
        Column("债务限额(万元)", "limit", _amount(), example="185000.00"),
        Column("债务余额(万元)", "balance", _amount(), example="176520.35"),
        Column("综合财力(万元)", "capacity", _amount(False), required=False, example="152300.00"),
        Column(
            "一般公共预算和政府性基金预算支出(万元)",
            "expenditure",
            _amount(False),
            required=False,
            example="268400.00",
        ),
    ],
    ImportKind.BONDS: [
        Column("债券编码", "code", _code, example="2326012"),
        Column("债券名称", "name", _required_text(200), example="2023年某省政府一般债券（十二期）"),
        Column(
            "债务类型",
            "category",
            _choice(CATEGORY_ALIASES, DebtCategory, "债务类型"),
            example="一般债务",
        ),
        Column(
            "债券类型",
            "bond_type",
            _choice(BOND_TYPE_ALIASES, BondType, "债券类型"),
            example="新增债券",
        ),
        Column("发行日期", "issue_date", _date(), example="2023-04-18"),
        Column("发行金额(万元)", "amount", _amount(), example="12000.00"),
        Column("票面利率(%)", "rate", _rate, example="2.85"),
        Column("期限(年)", "term_years", _term, example="7"),
        Column("到期日期", "maturity_date", _date(False), required=False, example="2030-04-18"),
        Column("资金用途", "use_of_proceeds", _optional_text(300), example="农村公路建设"),
        Column("项目名称", "project", _optional_text(200), example="县乡道路提升改造工程"),
        Column(
            "偿还资金来源",
            "repayment_source",
            _optional_text(200),
            required=False,
            example="一般公共预算收入",
        ),
    ],
    ImportKind.REPAYMENTS: [
        Column("债券编码", "code", _code, example="2326012"),
        Column("支付日期", "date", _date(), example="2026-04-18"),
        Column("偿还本金(万元)", "principal", _amount(False), example="0"),
        Column("支付利息(万元)", "interest", _amount(False), example="342.00"),
        Column("资金来源", "source", _optional_text(200), required=False, example="一般公共预算"),
    ],
    ImportKind.UNIT_ASSETS: [
        Column("年度", "year", _year, example="2026"),
        Column("单位编码", "code", _optional_text(40), required=False, example="101001"),
        Column("单位名称", "name", _required_text(200), example="县教育体育局"),
        Column("资产总额(万元)", "total_assets", _amount(), example="38650.20"),
        Column("负债总额(万元)", "total_liabilities", _amount(), example="2140.75"),
        Column(
            "净资产(万元)", "net_assets", _signed_amount(False), required=False, example="36509.45"
        ),
        Column("固定资产(万元)", "fixed_assets", _amount(False), example="30120.00"),
        Column("土地(万元)", "land", _amount(False), required=False, example="5200.00"),
        Column("车辆(辆)", "vehicles", _count, required=False, example="6"),
        Column("车辆金额(万元)", "vehicles_value", _amount(False), required=False, example="98.40"),
    ],
    ImportKind.ENTERPRISE_ASSETS: [
        Column("年度", "year", _year, example="2026"),
        Column(
            "统一社会信用代码",
            "code",
            _optional_text(40),
            required=False,
            example="91530428MA6K000001",
        ),
        Column("企业名称", "name", _required_text(200), example="县城市建设投资有限公司"),
        Column("资产总额(万元)", "total_assets", _amount(), example="265400.00"),
        Column("负债总额(万元)", "total_liabilities", _amount(), example="158200.00"),
        Column(
            "所有者权益(万元)", "equity", _signed_amount(False), required=False, example="107200.00"
        ),
        Column("营业收入(万元)", "revenue", _amount(False), example="18650.00"),
        Column("利润总额(万元)", "profit", _signed_amount(), example="1230.50"),
    ],
    ImportKind.FINDINGS: [
        Column("年度", "year", _year, example="2025"),
        Column(
            "来源报告", "source_report", _required_text(200), example="2025年度本级预算执行审计报告"
        ),
        Column("问题编号", "number", _code_text(30), example="2025-07"),
        Column(
            "问题",
            "problem",
            _required_text(5000),
            example="部分项目资金未按规定用途使用，挤占专项资金用于日常公用经费",
        ),
        Column("涉及金额(万元)", "amount", _amount(False), required=False, example="86.50"),
        Column(
            "责任单位编码", "department_code", _optional_text(20), required=False, example="101"
        ),
        Column("责任单位", "department_name", _required_text(100), example="县教育体育局"),
        Column(
            "整改要求",
            "requirement",
            _required_text(5000),
            example="归还原资金渠道，完善项目资金管理",
        ),
        Column("整改方式", "mode", _mode, required=False, example="立行立改"),
        Column("整改期限", "deadline", _date(), example="2026-06-30"),
    ],
}

# Other spellings of headers people type: full-width brackets and 元 vs 万元 are not mixed.
_HEADER_FOLD = str.maketrans({"（": "(", "）": ")", "％": "%"})


def _fold(header: str) -> str:
    return header_text(header).translate(_HEADER_FOLD)


# --- results ---------------------------------------------------------------------------------


@dataclass
class ImportResult:
    status: str
    kind: str = ""
    rows: int = 0
    batch: int | None = None
    errors: list[RowError] = field(default_factory=list)
    changes: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _refuse(kind, *errors):
    return ImportResult(status="error", kind=kind, errors=list(errors))


def _find_header(sheet, columns):
    wanted = {_fold(c.header) for c in columns if c.required}
    for number, values in sheet.rows[:HEADER_SEARCH_ROWS]:
        headers = [_fold(v) for v in values]
        if wanted <= set(headers):
            return number, headers
    return None


def parse_rows(sheet, kind):
    """[(row number, {name: value})] and the row errors."""
    columns = COLUMNS[kind]
    found = _find_header(sheet, columns)
    if found is None:
        names = "、".join(c.header for c in columns if c.required)
        return [], [
            RowError(None, f"未找到{ImportKind(kind).label}的表头：第一行应包含“{names}”各列")
        ]
    header_row, headers = found
    positions = {}
    errors = []
    for column in columns:
        folded = _fold(column.header)
        if headers.count(folded) > 1:
            errors.append(RowError(header_row, f"表头“{column.header}”出现了不止一次"))
        if folded in headers:
            positions[column.name] = headers.index(folded)
    if errors:
        return [], errors
    parsed = []
    plan = [(positions.get(c.name, -1), c.name, c.parse, c.header) for c in columns]
    for number, values in sheet.rows:
        if number <= header_row or _blank(values):
            continue
        record, problems, width = {}, [], len(values)
        for index, name, parse, header in plan:
            value = values[index] if 0 <= index < width else None
            if value.__class__ is str and value[:1] == "=":
                problems.append(f"{header}是公式，请先转换为数值")
                continue
            try:
                record[name] = parse(value, header)
            except CellError as error:
                problems.append(str(error))
        if problems:
            errors.append(RowError(number, "；".join(problems)))
        else:
            parsed.append((number, record))
    return parsed, errors


# --- checks across rows ------------------------------------------------------------------------


def _duplicates(parsed, key, describe):
    seen, errors = {}, []
    for number, record in parsed:
        k = key(record)
        if k in seen:
            errors.append(RowError(number, f"{describe(record)}与第 {seen[k]} 行重复"))
        else:
            seen[k] = number
    return errors


def _check_positions(parsed):
    errors = _duplicates(
        parsed,
        lambda r: (r["year"], r["category"]),
        lambda r: f"{r['year']}年{DebtCategory(r['category']).label}",
    )
    per_year = {}
    for number, record in parsed:
        for name, label in (("capacity", "综合财力"), ("expenditure", "财政支出")):
            value = record.get(name)
            if value is None:
                continue
            first = per_year.setdefault((record["year"], name), (number, value))
            if first[1] != value:
                errors.append(
                    RowError(
                        number,
                        f"{record['year']}年{label}与第 {first[0]} 行填写的不一致"
                        "（同一年度只能有一个数）",
                    )
                )
    return errors


def _check_bonds(parsed):
    errors = _duplicates(parsed, lambda r: r["code"], lambda r: f"债券编码“{r['code']}”")
    for number, record in parsed:
        issue, term = record["issue_date"], record["term_years"]
        if record.get("maturity_date") is None:
            try:
                record["maturity_date"] = issue.replace(year=issue.year + term)
            except ValueError:  # 29 February
                record["maturity_date"] = issue.replace(year=issue.year + term, day=28)
        if record["maturity_date"] <= issue:
            errors.append(RowError(number, "到期日期应晚于发行日期"))
        if record["amount"] == 0:
            errors.append(RowError(number, "发行金额不能为零"))
    return errors


def _check_repayments(parsed):
    errors = _duplicates(
        parsed,
        lambda r: (r["code"], r["date"]),
        lambda r: f"债券“{r['code']}”{r['date']:%Y-%m-%d}的还本付息",
    )
    codes = {r["code"] for _n, r in parsed}
    bonds = {
        code: (pk, amount)
        for code, pk, amount in Bond.objects.values_list("code", "pk", "amount")
        if code in codes
    }
    paid = {}
    for bond_id, date, principal in Repayment.objects.filter(
        bond_id__in=[pk for pk, _a in bonds.values()]
    ).values_list("bond_id", "date", "principal"):
        paid[(bond_id, date)] = principal
    for number, record in parsed:
        principal, interest = record.get("principal"), record.get("interest")
        if not principal and not interest:
            errors.append(RowError(number, "偿还本金和支付利息不能都为空或零"))
        found = bonds.get(record["code"])
        if found is None:
            errors.append(RowError(number, f"债券编码“{record['code']}”未登记，请先导入债券明细"))
            continue
        record["bond_id"] = found[0]
        paid[(found[0], record["date"])] = principal or Decimal(0)
    total = {}
    for (bond_id, _date), principal in paid.items():
        total[bond_id] = total.get(bond_id, Decimal(0)) + principal
    amounts = {pk: amount for pk, amount in bonds.values()}
    for number, record in parsed:
        bond_id = record.get("bond_id")
        if bond_id and total.get(bond_id, 0) > amounts[bond_id]:
            errors.append(RowError(number, f"债券“{record['code']}”累计偿还本金超过发行金额"))
            total[bond_id] = 0  # report once per bond
    return errors


def _check_balance(parsed, rest, rest_label):
    """净资产 (所有者权益) is 资产总额 − 负债总额: filled in when blank, refused when different."""
    errors = []
    for number, record in parsed:
        expected = record["total_assets"] - record["total_liabilities"]
        if record.get(rest) is None:
            record[rest] = expected
        elif record[rest] != expected:
            errors.append(
                RowError(
                    number,
                    f"{rest_label}应等于资产总额减负债总额（{expected / 10000:,.2f} 万元），"
                    f"填写的是 {record[rest] / 10000:,.2f} 万元",
                )
            )
    return errors


def _check_unit_assets(parsed):
    errors = _duplicates(
        parsed, lambda r: (r["year"], r["name"]), lambda r: f"{r['year']}年“{r['name']}”"
    )
    errors += _check_balance(parsed, "net_assets", "净资产")
    for number, record in parsed:
        record["fixed_assets"] = record.get("fixed_assets") or Decimal(0)
        total = record["total_assets"]
        for name, label in (("fixed_assets", "固定资产"), ("land", "土地")):
            if (record.get(name) or 0) > total:
                errors.append(RowError(number, f"{label}不能大于资产总额"))
        if (record.get("vehicles_value") or 0) > record["fixed_assets"]:
            errors.append(RowError(number, "车辆金额不能大于固定资产"))
    return errors


def _check_enterprise_assets(parsed):
    errors = _duplicates(
        parsed, lambda r: (r["year"], r["name"]), lambda r: f"{r['year']}年“{r['name']}”"
    )
    errors += _check_balance(parsed, "equity", "所有者权益")
    for _number, record in parsed:
        record["revenue"] = record.get("revenue") or Decimal(0)
    return errors


def _finding_key(record):
    return (record["year"], record["source_report"], record["number"])


FINDING_FIELDS = ("problem", "amount", "department_id", "requirement", "mode", "deadline")


def _check_findings(parsed):
    """Responsible units looked up once for the file (by code, else by a name only one active
    unit bears); a finding already registered is refused unless the row says the same."""
    from budget.models import Department

    errors = _duplicates(
        parsed,
        _finding_key,
        lambda r: f"{r['year']}年“{r['source_report'][:30]}”第“{r['number']}”号问题",
    )
    by_code, by_name = {}, {}
    for pk, code, name in Department.objects.filter(is_active=True).values_list(
        "pk", "code", "name"
    ):
        by_code[code] = (pk, name)
        by_name.setdefault(name, []).append(pk)
    for number, record in parsed:
        code, name = record.pop("department_code", ""), record.pop("department_name")
        if code:
            found = by_code.get(code)
            if found is None:
                errors.append(RowError(number, f"责任单位编码“{code[:20]}”不是有效的预算单位"))
            elif found[1] != name:
                errors.append(
                    RowError(
                        number,
                        f"责任单位编码“{code}”对应“{found[1]}”，与填写的“{name[:30]}”不一致",
                    )
                )
            else:
                record["department_id"] = found[0]
        else:
            pks = by_name.get(name, [])
            if not pks:
                errors.append(RowError(number, f"责任单位“{name[:30]}”不是有效的预算单位"))
            elif len(pks) > 1:
                errors.append(
                    RowError(number, f"有多个预算单位名为“{name[:30]}”，请填写责任单位编码")
                )
            else:
                record["department_id"] = pks[0]
    years = {r["year"] for _n, r in parsed}
    existing = {
        values[:3]: values[3:]
        for values in AuditFinding.objects.filter(year__in=years)
        .values_list("year", "source_report", "number", *FINDING_FIELDS)
        .iterator(chunk_size=5000)
    }
    for number, record in parsed:
        old = existing.get(_finding_key(record))
        if old is None or "department_id" not in record:
            continue
        if any(stored != record[f] for stored, f in zip(old, FINDING_FIELDS, strict=True)):
            errors.append(
                RowError(
                    number,
                    f"第“{record['number']}”号问题已经登记，内容与本行不同；导入不修改已登记的"
                    "问题，请在审计整改页面核对",
                )
            )
        else:
            record["registered"] = True
    return errors


CHECKS = {
    ImportKind.POSITIONS: _check_positions,
    ImportKind.BONDS: _check_bonds,
    ImportKind.REPAYMENTS: _check_repayments,
    ImportKind.UNIT_ASSETS: _check_unit_assets,
    ImportKind.ENTERPRISE_ASSETS: _check_enterprise_assets,
    ImportKind.FINDINGS: _check_findings,
}


# --- storing -----------------------------------------------------------------------------------


def _adapter(field):
    """How the driver wants a field's value, or None when it takes the value as it is."""
    ops = connection.ops
    if isinstance(field, models.DecimalField):
        sample = Decimal("1.00")
        if ops.adapt_decimalfield_value(sample, field.max_digits, field.decimal_places) is sample:
            return None
        return lambda v: ops.adapt_decimalfield_value(v, field.max_digits, field.decimal_places)
    if isinstance(field, models.DateTimeField):
        # one timestamp for a whole import: adapted once, not once a row
        last = [None, None]

        def adapt(value):
            if value is not last[0]:
                last[:] = [value, ops.adapt_datetimefield_value(value)]
            return last[1]

        return adapt
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    return None


def _insert(model, rows):
    """One prepared INSERT run by the driver for many rows: bulk_create spends most of its
    time preparing each field (and SQLite splits it into batches of 999 values)."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
    names = [f.attname for f in fields]
    adapters = [(i, adapt) for i, f in enumerate(fields) if (adapt := _adapter(f)) is not None]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BULK_SIZE * 10):
            values = [[r[name] for name in names] for r in rows[start : start + BULK_SIZE * 10]]
            for i, adapt in adapters:
                for row in values:
                    if row[i] is not None:
                        row[i] = adapt(row[i])
            cursor.executemany(sql, values)


def _upsert(model, key_fields, rows, batch, fields):
    """Create rows whose key is new, update those whose values changed; count both."""
    width = len(key_fields)
    existing = {
        values[:width]: values[width:]
        for values in model.objects.values_list(*key_fields, *fields, "pk").iterator(
            chunk_size=5000
        )
    }
    new, changed, unchanged = [], [], 0
    for values in rows:
        key = tuple(values[f] for f in key_fields)
        old = existing.get(key)
        if old is None:
            new.append({"batch_id": batch.pk, **{f: values[f] for f in (*key_fields, *fields)}})
        elif any(stored != values[f] for stored, f in zip(old, fields, strict=False)):
            changed.append(model(pk=old[-1], batch=batch, **{f: values[f] for f in fields}))
        else:
            unchanged += 1
    _insert(model, new)
    if changed:
        model.objects.bulk_update(changed, [*fields, "batch"], batch_size=500)
    return {"added": len(new), "changed": len(changed), "unchanged": unchanged}


def _store_positions(records, batch):
    changes = _upsert(
        DebtPosition,
        ("year", "category"),
        [{k: r[k] for k in ("year", "category", "limit", "balance")} for r in records],
        batch,
        ("limit", "balance"),
    )
    inputs = {}
    for r in records:
        bucket = inputs.setdefault(r["year"], {})
        for name in ("capacity", "expenditure"):
            if r.get(name) is not None:
                bucket[name] = r[name]
    for year, values in inputs.items():
        if values:
            DebtYear.objects.update_or_create(year=year, defaults={**values, "batch": batch})
    return changes


BOND_FIELDS = (
    "name",
    "category",
    "bond_type",
    "issue_date",
    "amount",
    "rate",
    "term_years",
    "maturity_date",
    "use_of_proceeds",
    "project",
    "repayment_source",
)


def _store_bonds(records, batch):
    rows = [{"repayment_source": "", **r} for r in records]
    return _upsert(Bond, ("code",), rows, batch, BOND_FIELDS)


def _store_repayments(records, batch):
    rows = [
        {
            "bond_id": r["bond_id"],
            "date": r["date"],
            "principal": r.get("principal") or Decimal(0),
            "interest": r.get("interest") or Decimal(0),
            "source": r.get("source", ""),
        }
        for r in records
    ]
    return _upsert(Repayment, ("bond_id", "date"), rows, batch, ("principal", "interest", "source"))


UNIT_ASSET_FIELDS = (
    "code",
    "total_assets",
    "total_liabilities",
    "net_assets",
    "fixed_assets",
    "land",
    "vehicles",
    "vehicles_value",
)
ENTERPRISE_ASSET_FIELDS = (
    "code",
    "total_assets",
    "total_liabilities",
    "equity",
    "revenue",
    "profit",
)


def _replace_years(model, fields):
    """A state-asset file is the whole report of the years it names: rows of those years are
    updated or added, and rows of those years the file no longer lists are removed."""

    def store(records, batch):
        rows = [
            {"year": r["year"], "name": r["name"], **{f: r.get(f) for f in fields}} for r in records
        ]
        for row in rows:
            row["code"] = row["code"] or ""
        keep = {(r["year"], r["name"]) for r in rows}
        stale = [
            pk
            for pk, year, name in model.objects.filter(
                year__in={r["year"] for r in rows}
            ).values_list("pk", "year", "name")
            if (year, name) not in keep
        ]
        model.objects.filter(pk__in=stale).delete()
        changes = _upsert(model, ("year", "name"), rows, batch, fields)
        changes["removed"] = len(stale)
        changes["years"] = sorted({r["year"] for r in rows})
        return changes

    return store


def _store_findings(records, batch):
    """Register the new findings: each gets its 登记问题 event, and each responsible unit's
    liaisons one message naming how many were assigned to it."""
    from django.urls import reverse
    from django.utils import timezone

    from cms.notifications.services import notify

    now = timezone.now()
    new = [
        {
            "year": r["year"],
            "source_report": r["source_report"],
            "number": r["number"],
            **{f: r[f] for f in FINDING_FIELDS},
            "status": RectificationStatus.NONE,
            "recovered": Decimal(0),
            "corrected": Decimal(0),
            "overdue_notified_on": None,
            "created_at": now,
            "updated_at": now,
        }
        for r in records
        if not r.get("registered")
    ]
    _insert(AuditFinding, new)
    years = {r["year"] for r in new}
    wanted = {_finding_key(r) for r in new}
    created = [
        (pk, problem, department_id)
        for pk, year, report, number, problem, department_id in AuditFinding.objects.filter(
            year__in=years
        )
        .values_list("pk", "year", "source_report", "number", "problem", "department_id")
        .iterator(chunk_size=5000)
        if (year, report, number) in wanted
    ]
    _insert(
        FindingEvent,
        [
            {
                "finding_id": pk,
                "at": now,
                "actor_id": batch.imported_by_id,
                "actor_name": batch.imported_by_name or "系统",
                "action": "登记问题",
                "from_status": "",
                "to_status": RectificationStatus.NONE,
                "note": f"{problem[:200]}（导入：第{batch.pk}批 {batch.filename[:60]}）",
            }
            for pk, problem, _department in created
        ],
    )
    per_unit = {}
    for _pk, _problem, department_id in created:
        per_unit[department_id] = per_unit.get(department_id, 0) + 1
    if per_unit:
        from budget.models import Department

        url = reverse("supervision:findings")
        for department in Department.objects.filter(pk__in=per_unit).prefetch_related("liaisons"):
            liaisons = [u for u in department.liaisons.all() if u.is_active]
            if liaisons:
                notify(
                    liaisons,
                    f"审计查出问题已交办：{per_unit[department.pk]} 个问题（{department.name}）"[
                        :100
                    ],
                    body=f"本次导入交办{department.name}审计查出问题 {per_unit[department.pk]} 个，"
                    "请按整改要求和期限报告整改情况。",
                    url=url,
                    category="supervision",
                )
    return {
        "added": len(created),
        "changed": 0,
        "unchanged": len(records) - len(new),
        "years": sorted({r["year"] for r in records}),
    }


STORE = {
    ImportKind.POSITIONS: _store_positions,
    ImportKind.BONDS: _store_bonds,
    ImportKind.REPAYMENTS: _store_repayments,
    ImportKind.UNIT_ASSETS: _replace_years(UnitAssets, UNIT_ASSET_FIELDS),
    ImportKind.ENTERPRISE_ASSETS: _replace_years(EnterpriseAssets, ENTERPRISE_ASSET_FIELDS),
    ImportKind.FINDINGS: _store_findings,
}


@transaction.atomic
def _store(kind, records, content, filename, user, username):
    batch = SupervisionBatch(
        kind=kind,
        filename=filename[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        imported_by=user if user is not None and user.is_authenticated else None,
        imported_by_name=username or (user.get_username() if user is not None else ""),
        rows=len(records),
    )
    batch.file.save(filename.rsplit("/", 1)[-1][:100] or "import", ContentFile(content), save=False)
    batch.save()
    batch.changes = STORE[kind](records, batch)
    batch.save(update_fields=["changes"])
    return batch


def _read_table(content: bytes, filename: str):
    """budget's reader, except that an XLSX file within the size limit is streamed by
    xlsx_reader (same rows and refusals, a fraction of openpyxl's time)."""
    if content.startswith(b"PK\x03\x04") and len(content) <= max_bytes():
        from .xlsx_reader import read_xlsx

        return read_xlsx(content)
    return read_table(content, filename)


def import_file(content: bytes, filename: str, kind: str, user=None, username="") -> ImportResult:
    """Read, check and (only when every row is good) store one file of *kind*."""
    if kind not in ImportKind.values:
        return _refuse(kind, RowError(None, f"未知的数据类型“{kind}”"))
    if kind == ImportKind.FINDINGS and user is not None:
        from .audit import can_register

        if not can_register(user):
            return _refuse(kind, RowError(None, "您没有登记审计查出问题的权限"))
    try:
        sheet = _read_table(content, filename)
    except ImportRefused as error:
        return _refuse(kind, RowError(None, str(error)))
    if not sheet.rows or all(_blank(values) for _n, values in sheet.rows):
        return _refuse(kind, RowError(None, "文件中没有任何内容"))
    parsed, errors = parse_rows(sheet, kind)
    if not errors and not parsed:
        errors = [RowError(None, "表头之后没有数据行")]
    if parsed and not (errors and errors[0].row is None):
        # rows across: duplicates, consistency, references (on the rows that read well)
        errors = errors + CHECKS[kind](parsed)
    if errors:
        errors.sort(key=lambda e: e.row or 0)
        if len(errors) > MAX_REPORTED_ERRORS:
            hidden = len(errors) - MAX_REPORTED_ERRORS
            errors = errors[:MAX_REPORTED_ERRORS] + [
                RowError(None, f"另有 {hidden} 处错误未列出，请先修正以上错误")
            ]
        return _refuse(kind, *errors)
    batch = _store(kind, [r for _n, r in parsed], content, filename, user, username)
    if kind in (ImportKind.POSITIONS, ImportKind.BONDS, ImportKind.REPAYMENTS):
        transaction.on_commit(_after_import)
    return ImportResult(
        status="ok", kind=kind, rows=batch.rows, batch=batch.pk, changes=batch.changes
    )


def _after_import():
    from .tasks import evaluate_debt_alerts

    evaluate_debt_alerts.delay()


# --- the downloadable templates ------------------------------------------------------------------

TEMPLATE_NOTES = {
    ImportKind.POSITIONS: [
        "每行为一个年度、一种债务类型（一般债务或专项债务）的年末限额和余额，金额单位为万元。",
        "综合财力、一般公共预算和政府性基金预算支出按年度填写，同一年度两行填写的须一致，可只填一行。",
        "债务率 = 债务余额 ÷ 综合财力；偿债率 = 当年还本付息 ÷ 综合财力；"
        "利息支出率 = 当年利息支出 ÷ 一般公共预算和政府性基金预算支出。",
        "同一年度、债务类型重新导入时更新原数据。",
    ],
    ImportKind.BONDS: [
        "每行一只债券（本县承担部分），债券编码不得重复；同一编码重新导入时更新原数据。",
        "债务类型：一般债务、专项债务；债券类型：新增债券、再融资债券、置换债券。",
        "日期写作 2026-04-18；期限为 1—30 年的整数；到期日期留空时按发行日期加期限计算。",
        "票面利率按百分数填写，如 2.85 表示 2.85%。",
        "偿还资金来源未落实的留空，到期前将按预警规则提示。",
    ],
    ImportKind.REPAYMENTS: [
        "每行为一只债券在一个支付日期的还本付息，金额单位为万元；债券须已在债券明细中登记。",
        "同一债券、同一支付日期只能有一行；重新导入时更新原数据。",
        "累计偿还本金不得超过债券发行金额。",
    ],
    ImportKind.UNIT_ASSETS: [
        "每行为一个行政事业单位一个年度末的资产情况，金额单位为万元；同一年度单位名称不得重复。",
        "净资产可留空，按资产总额减负债总额计算；填写时须与之相等。",
        "固定资产、土地不得大于资产总额，车辆金额不得大于固定资产；车辆填写数量（辆）。",
        "文件视为所列年度的完整报表：重新导入同一年度时，按本文件替换该年度全部单位数据。",
    ],
    ImportKind.ENTERPRISE_ASSETS: [
        "每行为一户国有企业一个年度的资产和经营情况，金额单位为万元；同一年度企业名称不得重复。",
        "所有者权益可留空，按资产总额减负债总额计算；填写时须与之相等。利润总额亏损填负数。",
        "文件视为所列年度的完整报表：重新导入同一年度时，按本文件替换该年度全部企业数据。",
    ],
}

TEMPLATE_NOTES[ImportKind.FINDINGS] = [
    "每行为一个审计查出问题；年度、来源报告和问题编号一起确定一个问题，文件内不得重复。",
    "责任单位填写预算单位名称；有同名单位时须填写责任单位编码。涉及金额单位为万元，可留空。",
    "整改方式：立行立改、分阶段整改、持续整改，留空按立行立改；整改期限写作 2026-06-30。",
    "导入的问题状态为未整改，并通知责任单位联络员；已登记且内容相同的行不重复登记，"
    "内容不同的行不予导入。",
]

TEMPLATE_NAMES = {
    ImportKind.POSITIONS: "债务限额余额导入模板",
    ImportKind.BONDS: "债券明细导入模板",
    ImportKind.REPAYMENTS: "还本付息导入模板",
    ImportKind.UNIT_ASSETS: "行政事业性国有资产导入模板",
    ImportKind.ENTERPRISE_ASSETS: "企业国有资产导入模板",
    ImportKind.FINDINGS: "审计查出问题导入模板",
}


def template_csv(kind: str) -> bytes:
    columns = COLUMNS[kind]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.header for c in columns])
    writer.writerow([c.example for c in columns])
    return buffer.getvalue().encode("utf-8-sig")


def template_xlsx(kind: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    columns = COLUMNS[kind]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = ImportKind(kind).label
    sheet.append([c.header for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.append([c.example for c in columns])
    for index, column in enumerate(columns):
        letter = chr(ord("A") + index)
        sheet.column_dimensions[letter].width = max(12, len(column.header) * 2 + 2)
        # text cells: codes keep their leading zeros, dates stay as typed
        sheet[f"{letter}2"].number_format = "@"
    notes = workbook.create_sheet("填写说明")
    for line in TEMPLATE_NOTES[kind]:
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
