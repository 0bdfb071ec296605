"""被引用 for documents that are not pages (budget/figures.py keeps the citations):

- a letter (函件) drafted from an alert carries the alert's figures; when it is signed (签发)
  the figures it names become frozen citations of that letter, so the figure's page lists it.
  Every kind of rule's alert names some (alert_specs): a subject's or a unit's budget figures,
  三公经费, a debt category or indicator, one bond, the fiscal rules' totals;
- the drafted 审计查出问题整改情况报告 cites the year's audit figures; each time it is
  generated, its citations become the figures it printed (frozen).

Who may see such a citation: a letter to those who may see the letter (letters_for), a report
to those who may draft it (cms.run_workflows). Registered from SupervisionConfig.ready.
"""

from importlib import import_module

from django.apps import apps
from django.urls import reverse

from budget.choices import THREE_PUBLIC_CODES, ClassificationKind, Measure
from budget.figures import (
    Document,
    FigureSpec,
    FigureSpecError,
    record_document_citations,
)
from budget.models import CitingDocument

from .choices import RuleKind
from .figures import AuditSpec, BondSpec, BudgetSumSpec, DebtSpec, FiscalSpec

# the figures each kind of alert prints (supervision/alerts.py, debt_rules.py, fiscal_rules.py)
BUDGET_MEASURES = {
    RuleKind.EXECUTION_LAG: (
        Measure.ADJUSTED,
        Measure.CUMULATIVE,
        Measure.EXECUTION_RATE,
        Measure.TIME_PROGRESS,
        Measure.PROGRESS_GAP,
    ),
    RuleKind.YEAR_END_RUSH: (Measure.MONTH, Measure.CUMULATIVE),
    RuleKind.FINAL_DEVIATION: (Measure.INITIAL, Measure.ADJUSTED, Measure.FINAL),
}
DEBT_MEASURES = {
    RuleKind.DEBT_NEAR_LIMIT: ("limit", "balance", "limit_usage", "headroom"),
    RuleKind.DEBT_RATIO: ("debt_ratio", "balance", "capacity"),
    RuleKind.DEBT_SERVICE_RATIO: ("service_ratio", "principal_paid", "interest_paid", "capacity"),
    RuleKind.DEBT_INTEREST_RATIO: ("interest_ratio", "interest_paid"),
}
THREE_PUBLIC_MEASURES = ("adjusted", "cumulative", "over_share")
BOND_MEASURES = ("amount", "outstanding", "maturity", "funded")
BALANCE_MEASURES = (
    "own_revenue",
    "funds_in",
    "other_transfers_in",
    "debt_in",
    "income",
    "own_spending",
    "funds_out",
    "other_transfers_out",
    "outgo",
    "balance_gap",
    "gap_share",
)
TRANSFER_MEASURES = BUDGET_MEASURES[RuleKind.EXECUTION_LAG]


def _budget_specs(alert) -> list:
    """执行进度 / 年底突击 / 决算偏离: one subject's figures, or a unit's whole budget."""
    kind = alert.rule.kind
    month = 0 if kind == RuleKind.FINAL_DEVIATION else alert.month or 12
    department = alert.department.code if alert.department_id else ""
    if alert.code:
        return [
            FigureSpec(
                year=alert.year,
                month=month,
                budget=alert.budget,
                code=alert.code,
                measure=measure,
                kind=ClassificationKind.FUNCTION,
                department=department,
            )
            for measure in BUDGET_MEASURES[kind]
        ]
    if not department:
        return []
    return [
        BudgetSumSpec(
            year=alert.year,
            month=month,
            budget=alert.budget,
            kind=ClassificationKind.FUNCTION,
            codes="",
            department=department,
            measure=str(measure),
        )
        for measure in BUDGET_MEASURES[kind]
    ]


def _three_public_specs(alert) -> list:
    if not alert.department_id:
        return []
    return [
        BudgetSumSpec(
            year=alert.year,
            month=alert.month,
            budget=alert.budget,
            kind=ClassificationKind.ECONOMIC,
            codes=",".join(THREE_PUBLIC_CODES),
            department=alert.department.code,
            measure=measure,
        )
        for measure in THREE_PUBLIC_MEASURES
    ]


def _idle_specs(alert) -> list:
    """结转结余: 调整预算数 and the spending it was measured against (决算数, else 12月累计),
    then the balance and its share."""
    final = any(label.startswith("决算数") for label in (alert.figures or {}))
    department = alert.department.code if alert.department_id else ""
    specs = []
    if alert.code:  # a 类 of the county: budget's own figures where one names it
        specs += [
            FigureSpec(alert.year, 0, alert.budget, alert.code, Measure.ADJUSTED),
            FigureSpec(alert.year, 0, alert.budget, alert.code, Measure.FINAL)
            if final
            else FigureSpec(alert.year, 12, alert.budget, alert.code, Measure.CUMULATIVE),
        ]
        measures = ("idle", "idle_share")
    elif department:
        measures = ("adjusted", "final" if final else "cumulative", "idle", "idle_share")
    else:
        return []
    for measure in measures:
        specs.append(
            BudgetSumSpec(
                year=alert.year,
                month=12 if measure == "cumulative" else 0,
                budget=alert.budget,
                kind=ClassificationKind.FUNCTION,
                codes=alert.code,
                department=department,
                measure=measure,
            )
        )
    return specs


def _fiscal(alert, basis, measure) -> FiscalSpec:
    return FiscalSpec(
        year=alert.year, month=alert.month, budget=alert.budget, basis=basis, measure=measure
    )


def alert_specs(alert) -> list:
    """The citable figures an alert names, as specs whose values are the alert's: computed the
    way its rule computed them. An alert no rule made (人工发现问题) names none."""
    kind = alert.rule.kind
    specs = []
    if kind in BUDGET_MEASURES:
        specs = _budget_specs(alert)
    elif kind == RuleKind.THREE_PUBLIC_OVER:
        specs = _three_public_specs(alert)
    elif kind in DEBT_MEASURES:
        category = ""
        if kind == RuleKind.DEBT_NEAR_LIMIT:
            category = alert.key.partition(":")[2]
        specs = [
            DebtSpec(year=alert.year, category=category, measure=m) for m in DEBT_MEASURES[kind]
        ]
    elif kind == RuleKind.DEBT_MATURITY_UNFUNDED:  # key 到期:<债券编码>
        code = alert.key.partition(":")[2]
        specs = [BondSpec(code=code, measure=m) for m in BOND_MEASURES] if code else []
    elif kind == RuleKind.BUDGET_BALANCE:  # key 收支平衡:预算 or 收支平衡:执行
        basis = "adjusted" if alert.key.endswith(":预算") else "cumulative"
        specs = [_fiscal(alert, basis, m) for m in BALANCE_MEASURES]
    elif kind == RuleKind.TRANSFER_LAG and alert.code:
        specs = [
            FigureSpec(
                year=alert.year,
                month=alert.month,
                budget=alert.budget,
                code=alert.code,
                measure=measure,
                kind=ClassificationKind.REVENUE,
            )
            for measure in TRANSFER_MEASURES
        ]
    elif kind == RuleKind.IDLE_BALANCE:
        specs = _idle_specs(alert)
    elif kind == RuleKind.TAX_SHARE:
        specs = [
            _fiscal(alert, "cumulative", m)
            for m in ("tax_revenue", "other_own_revenue", "own_revenue", "tax_share")
        ] + [
            _fiscal(alert, "adjusted", "tax_share"),
            _fiscal(alert, "prior_cumulative", "tax_share"),
        ]
    valid = []
    for spec in specs:
        try:
            spec.check_shape()
        except FigureSpecError:
            continue
        valid.append(spec)
    return valid


def letter_document(letter) -> Document:
    title = f"{letter.doc_number} {letter.title}".strip()
    return Document(CitingDocument.LETTER, str(letter.pk), title, letter.get_absolute_url())


def record_letter_citations(letter) -> list:
    """At 签发: the letter's figures become frozen citations with the values of this moment."""
    specs = {spec.key: (spec, True) for spec in alert_specs(letter.alert)}
    return record_document_citations(letter_document(letter), specs)


def letter_citations(letter) -> list:
    """The figures a signed letter cites, as frozen at 签发: (citation, spec, value shown)."""
    from budget.figures import spec_from_data
    from budget.models import FigureCitation

    rows = []
    for citation in FigureCitation.objects.filter(
        document=CitingDocument.LETTER, document_key=str(letter.pk)
    ).order_by("id"):
        try:
            spec = spec_from_data(citation.spec, citation.source)
        except FigureSpecError:
            continue
        rows.append((citation, spec, spec.format(citation.value)))
    return rows


AUDIT_REPORT_MEASURES = ("count", "done", "partial", "none", "amount", "recovered", "corrected")


def record_audit_report_citations(year: int, figures: dict) -> list:
    """The generated report's figures (audit_report.summary) as frozen citations."""
    values = {
        "count": figures["total"],
        "amount": figures["amount"],
        "recovered": figures["recovered"],
        "corrected": figures["corrected"],
        "done_share": figures["done_share"],
        **{status.value: n for status, n in figures["counts"].items()},
    }
    specs, printed = {}, {}
    for measure, value in values.items():
        spec = AuditSpec(year=year, department="", measure=measure)
        specs[spec.key] = (spec, True)
        printed[spec.key] = value
    document = Document(
        CitingDocument.AUDIT_REPORT,
        str(year),
        f"关于{year}年度审计查出问题整改情况的报告（草稿）",
        reverse("supervision:audit_report", args=[year]),
    )
    return record_document_citations(document, specs, printed)


# --- who may see them -------------------------------------------------------------------------


def readable_letters(user, keys) -> set:
    services = import_module(apps.get_app_config("letters").name + ".services")
    ids = [int(k) for k in keys if str(k).isdigit()]
    return {
        str(pk) for pk in services.letters_for(user).filter(pk__in=ids).values_list("pk", flat=True)
    }


def readable_audit_reports(user, keys) -> set:
    from .audit import can_register

    return set(keys) if can_register(user) else set()


def register() -> None:
    from budget.figures import register_document_reader, register_source

    from .figures import SPECS

    for spec_class in SPECS:
        register_source(spec_class)
    register_document_reader(CitingDocument.LETTER, readable_letters)
    register_document_reader(CitingDocument.AUDIT_REPORT, readable_audit_reports)
