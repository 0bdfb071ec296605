"""监督预警 pages: the list, one alert with its events and moves, and the move itself. The rules
and the one table of transitions are in alerts.py. Staff with cms.query_data see every alert; a
部门联络员 sees the alerts on the units he or she acts for (read-only)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from budget.views import is_scoped, query_or_unit_required

from .alerts import (
    TRANSITIONS,
    TransitionError,
    allowed_transitions,
    assign_owner,
    can_handle,
    open_alerts_for,
    transition,
)
from .choices import AlertGrade, AlertStatus
from .models import Alert
from .problems import source_query_for


def _visible_alerts(request):
    return open_alerts_for(request.user)


@query_or_unit_required
def alert_list(request):
    alerts = _visible_alerts(request).select_related("rule", "owner", "department")
    status = request.GET.get("status", "open")
    if status == "open":
        alerts = alerts.exclude(status=AlertStatus.CLOSED)
    elif status in AlertStatus.values:
        alerts = alerts.filter(status=status)
    grade = request.GET.get("grade", "")
    if grade in AlertGrade.values:
        alerts = alerts.filter(grade=grade)
    today = timezone.localdate()
    page = Paginator(alerts.order_by("due_date", "-created_at"), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "supervision/alerts.html",
        {
            "page": page,
            "today": today,
            "status": status,
            "grade": grade,
            "statuses": AlertStatus.choices,
            "grades": AlertGrade.choices,
            "section": "alerts",
            "budget_scoped": is_scoped(request.user),
        },
    )


@query_or_unit_required
def alert_detail(request, pk):
    alert = get_object_or_404(
        _visible_alerts(request).select_related("rule", "owner", "department"), pk=pk
    )
    handlers = []
    if can_handle(request.user):
        handlers = [
            u
            for u in get_user_model().objects.filter(is_active=True).order_by("username")
            if u.has_perm("cms.handle_alerts")
        ]
    return render(
        request,
        "supervision/alert.html",
        {
            "alert": alert,
            "events": alert.events.select_related("actor"),
            "moves": allowed_transitions(alert) if can_handle(request.user) else {},
            "can_handle": can_handle(request.user),
            "handlers": handlers,
            "overdue": alert.is_overdue(),
            "section": "alerts",
            "budget_scoped": is_scoped(request.user),
            "all_moves": TRANSITIONS,
            "source_query": source_query_for(alert, request.user),
        },
    )


@require_POST
@permission_required("cms.handle_alerts", raise_exception=True)
def alert_transition(request, pk):
    alert = get_object_or_404(Alert, pk=pk)
    try:
        if request.POST.get("action") == "assign":
            owner_id = request.POST.get("owner") or None
            owner = get_user_model().objects.filter(pk=owner_id).first() if owner_id else None
            assign_owner(alert, owner, request.user)
            messages.success(request, "已指派负责人")
        else:
            transition(
                alert, request.POST.get("to", ""), request.user, request.POST.get("note", "")
            )
            messages.success(request, "预警状态已更新")
    except TransitionError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("supervision:alert", pk)
    return redirect("supervision:alert", pk)
