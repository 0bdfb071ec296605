import datetime
import re

from django.shortcuts import render
from django.utils import timezone

from . import services
from .forms import UNIT_MONTHS, DueDateForm

MONTH_PARAM = re.compile(r"^(\d{4})-(\d{1,2})$")
WEEKDAY_LABELS = ["一", "二", "三", "四", "五", "六", "日"]


def _shift_month(year, month, delta):
    shifted = services.add_months(datetime.date(year, month, 1), delta)
    return shifted.year, shifted.month


def _requested_month(value, today):
    """(year, month, error) from a ?month=YYYY-MM parameter."""
    if not value:
        return today.year, today.month, ""
    match = MONTH_PARAM.match(value.strip())
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if 1900 <= year <= 2200 and 1 <= month <= 12:
            return year, month, ""
    return today.year, today.month, "月份格式应为 2026-10，已显示本月。"


def calendar_page(request):
    """工作日历: a month grid and the due-date calculator."""
    today = timezone.localdate()
    year, month, month_error = _requested_month(request.GET.get("month"), today)
    view = services.month_view(year, month)

    result = None
    if "start" in request.GET:
        form = DueDateForm(request.GET)
        if form.is_valid():
            start = form.cleaned_data["start"]
            amount = form.cleaned_data["amount"]
            if form.cleaned_data["unit"] == UNIT_MONTHS:
                due = services.add_months(start, amount)
                provisional = False
                unit_label = "个自然月"
            else:
                due = services.add_workdays(start, amount)
                provisional = due.provisional
                unit_label = "个工作日"
            result = {
                "start": start,
                "amount": amount,
                "unit_label": unit_label,
                "due": due,
                "due_info": services.day_info(due),
                "weekday": WEEKDAY_LABELS[due.weekday()],
                "provisional": provisional,
                "due_month": f"{due.year}-{due.month:02d}",
            }
    else:
        form = DueDateForm(initial={"start": today, "unit": "workdays"})

    prev_year, prev_month = _shift_month(year, month, -1)
    next_year, next_month = _shift_month(year, month, 1)
    return render(
        request,
        "workdays/calendar.html",
        {
            "view": view,
            "today": today,
            "weekday_labels": WEEKDAY_LABELS,
            "month_error": month_error,
            "prev_month": f"{prev_year}-{prev_month:02d}",
            "next_month": f"{next_year}-{next_month:02d}",
            "this_month": f"{today.year}-{today.month:02d}",
            "year_source": services.year_source(year),
            "form": form,
            "result": result,
        },
    )
