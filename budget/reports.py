"""Report tables: one builder per view, shared by the page and its XLSX export.

A Table holds headers and rows of cells; a cell carries the value written to the
spreadsheet (万元 as a Decimal, percent as a Decimal) and the text shown on the page.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.db.models import Max
from django.urls import reverse

from .amounts import format_percent, format_wan, to_wan
from .choices import (
    LEVEL_NAMES,
    THREE_PUBLIC_CODES,
    BudgetKind,
    ClassificationKind,
    Phase,
)
from .measures import (
    ExecutionRow,
    department_table,
    execution_table,
    monthly_cumulative,
    subject_names,
    total_row,
)
from .models import Department, Figure, RollupScope, level_of, parent_code


@dataclass
class Cell:
    value: object
    text: str = ""
    url: str = ""
    css: str = ""

    def __post_init__(self):
        if not self.text and self.value is not None:
            self.text = str(self.value)


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    footer: list[Cell] | None = None
    note: str = ""

    def export_rows(self):
        for row in self.rows:
            yield [c.value for c in row]
        if self.footer:
            yield [c.value for c in self.footer]


def amount_cell(yuan) -> Cell:
    return Cell(to_wan(yuan), format_wan(yuan), css="num")


def percent_cell(value, highlight_below=None) -> Cell:
    css = "num"
    if highlight_below is not None and value is not None and value < highlight_below:
        css += " is-behind"
    return Cell(value, format_percent(value), css=css)


def points_cell(value, highlight_below=None) -> Cell:
    """A difference of two percentages, in 百分点: a signed number without “%”."""
    css = "num"
    if highlight_below is not None and value is not None and value < highlight_below:
        css += " is-behind"
    return Cell(value, "" if value is None else f"{value:+.2f}", css=css)


# --- parameters ------------------------------------------------------------------------------


def latest_final_year(budget: str = BudgetKind.GENERAL):
    """The newest year with 决算 figures (None when there is none)."""
    return Figure.objects.filter(budget=budget, phase=Phase.FINAL).aggregate(y=Max("year"))["y"]


def latest_period(budget: str = BudgetKind.GENERAL):
    """The newest year and month with execution figures (from the rollup scopes the
    importer keeps; from the figures themselves where none are built)."""
    if RollupScope.objects.exists():
        row = (
            RollupScope.objects.filter(budget=budget, last_month__gt=0)
            .order_by("-year", "-last_month")
            .values_list("year", "last_month")
            .first()
        )
        if row:
            return row
    row = (
        Figure.objects.filter(budget=budget, phase__in=[Phase.EXECUTION, Phase.CUMULATIVE])
        .order_by("-year", "-month")
        .values_list("year", "month")
        .first()
    )
    if row:
        return row
    year = Figure.objects.aggregate(y=Max("year"))["y"]
    return (year, 12) if year else (None, None)


class ReportForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=1990, max_value=2100, required=False)
    month = forms.IntegerField(label="截至月份", min_value=1, max_value=12, required=False)
    budget = forms.ChoiceField(
        label="预算", choices=BudgetKind.choices, required=False, initial=BudgetKind.GENERAL
    )
    kind = forms.ChoiceField(
        label="科目分类",
        choices=ClassificationKind.choices,
        required=False,
        initial=ClassificationKind.FUNCTION,
    )
    parent = forms.RegexField(label="上级科目", regex=r"^\d{3,9}$", required=False)
    code = forms.RegexField(label="科目编码", regex=r"^\d{3,9}$", required=False)
    department = forms.ModelChoiceField(
        label="预算单位", queryset=Department.objects.all(), required=False, empty_label="全县"
    )

    def __init__(self, *args, departments=None, **kwargs):
        """*departments*: the units a liaison may choose (no 全县 choice then)."""
        super().__init__(*args, **kwargs)
        if departments is not None:
            field = self.fields["department"]
            field.queryset = departments
            field.empty_label = None
            field.required = True

    def department_options(self):
        """(value, label, selected) for the unit list, from one plain query: the form
        widget would open a server-side cursor and render one template per option."""
        field = self.fields["department"]
        chosen = str(self["department"].value() or "")
        options = [("", field.empty_label, not chosen)] if field.empty_label else []
        for pk, code, name in field.queryset.values_list("pk", "code", "name"):
            options.append((str(pk), f"{code} {name}", str(pk) == chosen))
        return options

    def clean(self):
        data = super().clean()
        data["budget"] = data.get("budget") or BudgetKind.GENERAL
        data["kind"] = data.get("kind") or ClassificationKind.FUNCTION
        if not data.get("year") or not data.get("month"):
            year, month = latest_period(data["budget"])
            data["year"] = data.get("year") or year
            data["month"] = data.get("month") or month or 12
        for name in ("parent", "code"):
            if data.get(name) and level_of(data["kind"], data[name]) is None:
                self.add_error(name, "科目编码位数不符合所选分类")
        return data


@dataclass
class Params:
    year: int | None
    month: int
    budget: str
    kind: str = ClassificationKind.FUNCTION
    parent: str = ""
    code: str = ""
    department: Department | None = None
    # a liaison's units: the per-department table keeps to these
    unit_ids: list[int] | None = None

    @classmethod
    def from_form(cls, data) -> "Params":
        return cls(
            year=data.get("year"),
            month=data.get("month") or 12,
            budget=data.get("budget") or BudgetKind.GENERAL,
            kind=data.get("kind") or ClassificationKind.FUNCTION,
            parent=data.get("parent") or "",
            code=data.get("code") or "",
            department=data.get("department"),
        )

    @property
    def department_ids(self):
        return self.department.descendant_ids() if self.department else None

    @property
    def budget_label(self) -> str:
        return BudgetKind(self.budget).label

    def query(self, **changes) -> str:
        values = {
            "year": self.year,
            "month": self.month,
            "budget": self.budget,
            "kind": self.kind,
            "parent": self.parent,
            "code": self.code,
            "department": self.department.pk if self.department else "",
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})

    def url(self, name: str, **changes) -> str:
        return reverse(f"budget:{name}") + "?" + self.query(**changes)


def breadcrumbs(params: Params, view: str = "execution") -> list[tuple[str, str]]:
    """类 → 款 → 项 trail for the current parent."""
    trail = [(params.budget_label, params.url(view, parent=""))]
    if not params.parent:
        return trail
    names = subject_names(params.year, params.kind)
    code = params.parent
    chain = []
    while code:
        chain.append(code)
        code = parent_code(params.kind, code)
    for code in reversed(chain):
        trail.append((f"{code} {names.get(code, '')}", params.url(view, parent=code)))
    return trail


# --- execution ---------------------------------------------------------------------------------

EXECUTION_HEADERS = [
    "科目编码",
    "科目名称",
    "年初预算数（万元）",
    "调整预算数（万元）",
    "本月执行数（万元）",
    "累计执行数（万元）",
    "执行率",
    "序时进度",
    "进度差（百分点）",
    "上年同期（万元）",
    "同比",
]


def _execution_cells(row: ExecutionRow, params: Params, link_code=True) -> list[Cell]:
    code_url = ""
    if link_code and row.has_children:
        code_url = params.url("execution", parent=row.code)
    return [
        Cell(row.code, url=code_url),
        Cell(row.name, url=code_url),
        amount_cell(row.initial),
        amount_cell(row.adjusted),
        amount_cell(row.month_amount),
        amount_cell(row.cumulative),
        percent_cell(row.execution_rate, highlight_below=row.time_progress),
        percent_cell(row.time_progress),
        points_cell(row.progress_gap, highlight_below=Decimal(0)),
        amount_cell(row.prior_cumulative),
        percent_cell(row.yoy),
    ]


def execution_rows(params: Params) -> list[ExecutionRow]:
    return execution_table(
        params.year,
        params.month,
        params.budget,
        kind=params.kind,
        parent=params.parent,
        department_ids=params.department_ids,
    )


def execution_report(params: Params, rows=None) -> Table:
    rows = execution_rows(params) if rows is None else rows
    where = f"（{params.department.name}）" if params.department else ""
    level = ""
    if params.parent:
        names = subject_names(params.year, params.kind)
        level = f" · {params.parent} {names.get(params.parent, '')}"
    table = Table(
        title=f"{params.year}年1-{params.month}月{params.budget_label}执行情况{where}{level}",
        headers=EXECUTION_HEADERS,
        rows=[_execution_cells(r, params) for r in rows],
        note="执行率 = 累计执行数 ÷ 调整预算数（未调整时为年初预算数）；序时进度 = 已过月份 ÷ 12。",
    )
    if rows:
        total = total_row(rows, params.month)
        total.name = "合计" if not params.parent else "小计"
        table.footer = _execution_cells(total, params, link_code=False)
    return table


DEPARTMENT_HEADERS = ["单位编码", "单位名称", *EXECUTION_HEADERS[2:]]


def department_report(params: Params) -> Table:
    rows = department_table(
        params.year,
        params.month,
        params.budget,
        code=params.code,
        kind=params.kind,
        department_ids=params.unit_ids,
    )
    names = subject_names(params.year, params.kind)
    what = f" · {params.code} {names.get(params.code, '')}" if params.code else ""
    table = Table(
        title=f"{params.year}年1-{params.month}月{params.budget_label}分单位执行情况{what}",
        headers=DEPARTMENT_HEADERS,
    )
    for row in rows:
        cells = _execution_cells(row, params, link_code=False)
        url = params.url("execution", department=row.department_id, parent="")
        cells[0].url = cells[1].url = url
        table.rows.append(cells)
    if rows:
        table.footer = _execution_cells(total_row(rows, params.month), params, link_code=False)
    return table


# --- final accounts ------------------------------------------------------------------------------

FINAL_HEADERS = [
    "科目编码",
    "科目名称",
    "年初预算数（万元）",
    "调整预算数（万元）",
    "决算数（万元）",
    "决算较年初增减（万元）",
    "较年初偏离",
    "决算较调整增减（万元）",
    "较调整偏离",
]


def _final_cells(row: ExecutionRow, params: Params, link=True) -> list[Cell]:
    url = params.url("final", parent=row.code) if link and row.has_children else ""
    diff_initial = (
        row.final - row.initial if row.final is not None and row.initial is not None else None
    )
    diff_adjusted = (
        row.final - row.adjusted if row.final is not None and row.adjusted is not None else None
    )
    return [
        Cell(row.code, url=url),
        Cell(row.name, url=url),
        amount_cell(row.initial),
        amount_cell(row.adjusted),
        amount_cell(row.final),
        amount_cell(diff_initial),
        percent_cell(row.final_vs_initial),
        amount_cell(diff_adjusted),
        percent_cell(row.final_vs_adjusted),
    ]


def final_report(params: Params) -> Table:
    rows = execution_table(
        params.year,
        12,
        params.budget,
        kind=params.kind,
        parent=params.parent,
        department_ids=params.department_ids,
    )
    table = Table(
        title=f"{params.year}年{params.budget_label}决算与预算对比",
        headers=FINAL_HEADERS,
        rows=[_final_cells(r, params) for r in rows],
        note="偏离 = (决算数 − 预算数) ÷ 预算数。",
    )
    if rows:
        table.footer = _final_cells(total_row(rows, 12), params, link=False)
    return table


# --- 三公经费 -------------------------------------------------------------------------------------

THREE_PUBLIC_HEADERS = [
    "单位编码",
    "单位名称",
    *[f"{name}（万元）" for name in THREE_PUBLIC_CODES.values()],
    "三公经费预算（万元）",
    "累计支出（万元）",
    "预算执行率",
    "决算数（万元）",
]


def three_public_report(params: Params) -> Table:
    from .measures import three_public_rows

    per_department, total = three_public_rows(params.year, params.month, params.budget)
    table = Table(
        title=f"{params.year}年1-{params.month}月三公经费执行情况",
        headers=THREE_PUBLIC_HEADERS,
        note=(
            "三公经费：因公出国（境）费（30212）、公务接待费（30217）、公务用车购置费（31013）"
            "和公务用车运行维护费（30231），按支出经济分类统计；各项列示累计支出。"
        ),
    )
    for _dept_id, bucket in sorted(per_department.items(), key=lambda item: item[1]["code"]):
        items = bucket["items"]
        rate = None
        if bucket["base"]:
            rate = (bucket["cumulative"] or 0) * 100 / bucket["base"]
            rate = rate.quantize(Decimal("0.01"))
        table.rows.append(
            [
                Cell(bucket["code"]),
                Cell(bucket["name"]),
                *[
                    amount_cell(items[c].cumulative if c in items else None)
                    for c in THREE_PUBLIC_CODES
                ],
                amount_cell(bucket["base"]),
                amount_cell(bucket["cumulative"]),
                percent_cell(rate),
                amount_cell(bucket["final"]),
            ]
        )
    if per_department or total["base"] is not None:
        rate = None
        if total["base"]:
            rate = ((total["cumulative"] or 0) * 100 / total["base"]).quantize(Decimal("0.01"))
        table.footer = [
            Cell(""),
            Cell("全县合计"),
            *[Cell(None, "") for _ in THREE_PUBLIC_CODES],
            amount_cell(total["base"]),
            amount_cell(total["cumulative"]),
            percent_cell(rate),
            amount_cell(total["final"]),
        ]
    return table


# --- year over year -------------------------------------------------------------------------------


def years_with_data(budget: str) -> list[int]:
    return sorted(
        Figure.objects.filter(budget=budget).values_list("year", flat=True).distinct().order_by()
    )


def compare_report(params: Params, span: int = 3) -> Table:
    years = [y for y in years_with_data(params.budget) if y <= params.year][-span:]
    per_year = {}
    for year in years:
        rows = execution_table(
            year,
            params.month,
            params.budget,
            kind=params.kind,
            parent=params.parent,
            department_ids=params.department_ids,
        )
        per_year[year] = {r.code: r for r in rows}
    codes = sorted({code for rows in per_year.values() for code in rows})
    names = subject_names(params.year, params.kind)
    headers = ["科目编码", "科目名称"]
    for year in years:
        headers.append(f"{year}年1-{params.month}月累计执行（万元）")
    if len(years) >= 2:
        headers += [f"较{years[-2]}年增减（万元）", "同比"]
    table = Table(
        title=f"{params.budget_label}1-{params.month}月执行数逐年对比",
        headers=headers,
        note="各年均为 1 月至所选月份的累计执行数。",
    )
    for code in codes:
        has_children = any(per_year[y][code].has_children for y in years if code in per_year[y])
        url = params.url("compare", parent=code) if has_children else ""
        cells = [Cell(code, url=url), Cell(names.get(code, ""), url=url)]
        values = [per_year[y][code].cumulative if code in per_year[y] else None for y in years]
        cells += [amount_cell(v) for v in values]
        if len(years) >= 2:
            now, before = values[-1], values[-2]
            diff = now - before if now is not None and before is not None else None
            yoy = (
                (diff * 100 / before).quantize(Decimal("0.01"))
                if diff is not None and before
                else None
            )
            cells += [amount_cell(diff), percent_cell(yoy)]
        table.rows.append(cells)
    return table


# --- monthly trend ----------------------------------------------------------------------------------


def trend_series(params: Params):
    """[(label, [(month, 元)])] for this year and last year."""
    series = []
    for year in (params.year - 1, params.year):
        points = monthly_cumulative(
            year,
            params.budget,
            code=params.code,
            kind=params.kind,
            department_ids=params.department_ids,
        )
        if any(v is not None for _m, v in points):
            series.append((f"{year}年", points))
    return series


def trend_report(params: Params, series=None) -> Table:
    series = trend_series(params) if series is None else series
    names = subject_names(params.year, params.kind)
    what = f"{params.code} {names.get(params.code, '')}" if params.code else "支出合计"
    table = Table(
        title=f"{params.budget_label}{what}逐月累计执行",
        headers=["月份", *[f"{label}累计执行（万元）" for label, _p in series]],
    )
    lookup = [dict(points) for _label, points in series]
    for month in range(1, 13):
        values = [points.get(month) for points in lookup]
        if all(v is None for v in values):
            continue
        table.rows.append([Cell(f"{month}月"), *[amount_cell(v) for v in values]])
    return table


def level_label(kind: str, code: str) -> str:
    level = level_of(kind, code)
    return LEVEL_NAMES[level] if level is not None else ""
