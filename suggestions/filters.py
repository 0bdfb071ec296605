"""Filters of suggestion lists, shared by the pages and the XLSX export."""

import datetime

from django.db.models import Q
from django.utils import timezone

from budget.models import Department

from . import services
from .choices import Period, Status, SuggestionKind
from .models import Category, Session, Term

FILTER_KEYS = (
    "term",
    "session",
    "status",
    "category",
    "kind",
    "period",
    "unit",
    "year",
    "overdue",
    "key",
    "q",
)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def clean_params(data) -> dict:
    """The recognised filters of a GET, as strings ("" when absent)."""
    return {key: (data.get(key) or "").strip()[:100] for key in FILTER_KEYS}


def apply(qs, params: dict, today: datetime.date | None = None):
    today = today or timezone.localdate()
    if (term := _int(params.get("term"))) is not None:
        qs = qs.filter(term__number=term)
    if (session := _int(params.get("session"))) is not None:
        qs = qs.filter(session__number=session)
    status = params.get("status")
    if status == "open":
        qs = qs.exclude(status__in=[Status.CLOSED, Status.CONVERTED])
    elif status in Status.values:
        qs = qs.filter(status=status)
    if (category := _int(params.get("category"))) is not None:
        qs = qs.filter(category_id=category)
    if params.get("kind") in SuggestionKind.values:
        qs = qs.filter(kind=params["kind"])
    if params.get("period") in Period.values:
        qs = qs.filter(period=params["period"])
    if (unit := _int(params.get("unit"))) is not None:
        qs = qs.filter(Q(lead_unit_id=unit) | Q(co_units=unit)).distinct()
    if (year := _int(params.get("year"))) is not None:
        qs = qs.filter(submitted_on__year=year)
    if params.get("overdue"):
        qs = qs.filter(pk__in=services.overdue(today).values("pk"))
    if params.get("key"):
        qs = qs.filter(key_supervision=True)
    if q := params.get("q"):
        qs = qs.filter(Q(title__icontains=q) | Q(content__icontains=q) | Q(lead_deputy__name=q))
    return qs


def describe(params: dict) -> str:
    """The filters in words, for the export registration."""
    parts = []
    if params.get("term"):
        parts.append(f"第{params['term']}届")
    if params.get("session"):
        parts.append(f"第{params['session']}次会议")
    if params.get("status") == "open":
        parts.append("未办结")
    elif params.get("status") in Status.values:
        parts.append(Status(params["status"]).label)
    if (category := _int(params.get("category"))) is not None:
        name = Category.objects.filter(pk=category).values_list("name", flat=True).first()
        parts.append(f"分类：{name or category}")
    if params.get("kind") in SuggestionKind.values:
        parts.append(SuggestionKind(params["kind"]).label)
    if params.get("period") in Period.values:
        parts.append(Period(params["period"]).label)
    if (unit := _int(params.get("unit"))) is not None:
        name = Department.objects.filter(pk=unit).values_list("name", flat=True).first()
        parts.append(f"单位：{name or unit}")
    if params.get("year"):
        parts.append(f"{params['year']}年提出")
    if params.get("overdue"):
        parts.append("已逾期")
    if params.get("key"):
        parts.append("重点督办")
    if params.get("q"):
        parts.append(f"含“{params['q']}”")
    return "，".join(parts) or "全部"


def choices() -> dict:
    """Options of the filter form."""
    return {
        "terms": Term.objects.all(),
        "sessions": Session.objects.select_related("term"),
        "statuses": Status.choices,
        "categories": Category.objects.select_related("term"),
        "kinds": SuggestionKind.choices,
        "periods": Period.choices,
        "units": Department.objects.filter(is_active=True, parent__isnull=True),
    }
