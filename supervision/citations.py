"""被引用 for documents that are not pages (budget/figures.py keeps the citations):

- a letter (函件) drafted from an alert carries the alert's figures; when it is signed (签发)
  the figures it names become frozen citations of that letter, so the figure's page lists it;
- the drafted 审计查出问题整改情况报告 cites the year's audit figures; each time it is
  generated, its citations become the figures it printed (frozen).

Who may see such a citation: a letter to those who may see the letter (letters_for), a report
to those who may draft it (cms.run_workflows). Registered from SupervisionConfig.ready.
"""

from importlib import import_module

from django.apps import apps
from django.urls import reverse

from budget.choices import ClassificationKind, Measure
from budget.figures import (
    Document,
    FigureSpec,
    FigureSpecError,
    record_document_citations,
)
from budget.models import CitingDocument

from .choices import RuleKind
from .figures import AuditSpec, DebtSpec

# the figures each kind of alert prints (supervision/alerts.py, supervision/debt_rules.py), as specs
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


def alert_specs(alert) -> list:
    """The citable figures an alert names. Findings that are not one subject's or one debt
    category's figures (a unit's whole budget, 三公经费 over several codes, one bond) name
    none: their numbers stay in the letter's text only."""
    kind = alert.rule.kind
    specs = []
    if kind in BUDGET_MEASURES and alert.code:
        department = alert.department.code if alert.department_id else ""
        month = 0 if kind == RuleKind.FINAL_DEVIATION else alert.month or 12
        for measure in BUDGET_MEASURES[kind]:
            specs.append(
                FigureSpec(
                    year=alert.year,
                    month=month,
                    budget=alert.budget,
                    code=alert.code,
                    measure=measure,
                    kind=ClassificationKind.FUNCTION,
                    department=department,
                )
            )
    elif kind in DEBT_MEASURES:
        category = ""
        if kind == RuleKind.DEBT_NEAR_LIMIT:
            category = alert.key.partition(":")[2]
        for measure in DEBT_MEASURES[kind]:
            specs.append(DebtSpec(year=alert.year, category=category, measure=measure))
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
