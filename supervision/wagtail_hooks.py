"""Supervision in the admin and on the home page: alert rules (预警规则), the panels of alerts
that are due (staff) or raised on one's own units (部门联络员), and the demo loader."""

import datetime

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from wagtail import hooks
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from budget.departments import department_ids_for, is_department_scoped
from budget.wagtail_hooks import BudgetStaffPolicy
from cms.home import HomePanel, HomePanelItem

from .choices import AlertStatus
from .models import Alert, AlertRule

HOME_PANEL_SIZE = 8
DUE_SOON_DAYS = 5

register_permission_policy(AlertRule, BudgetStaffPolicy(AlertRule))


class AlertRuleViewSet(SnippetViewSet):
    model = AlertRule
    icon = "warning"
    menu_label = "预警规则"
    menu_order = 310
    add_to_admin_menu = True
    list_display = ["name", "kind", "scope", "budget", "threshold", "grade", "is_active"]
    list_filter = ["kind", "grade", "is_active"]
    search_fields = ["name"]


register_snippet(AlertRuleViewSet)


@hooks.register("register_demo_loader")
def load_supervision_demo(stdout):
    from .demo import load_demo

    load_demo(stdout)


@hooks.register("register_home_panel")
def due_alerts_panel(request):
    """Staff: open alerts that are overdue or due within a few days."""
    user = request.user
    if not (user.is_authenticated and user.has_perm("cms.handle_alerts")):
        return None
    today = timezone.localdate()
    soon = today + datetime.timedelta(days=DUE_SOON_DAYS)
    alerts = (
        Alert.objects.exclude(status=AlertStatus.CLOSED)
        .filter(due_date__lte=soon)
        .filter(Q(owner=user) | Q(owner__isnull=True))
        .order_by("due_date", "pk")[:HOME_PANEL_SIZE]
    )
    items = [
        HomePanelItem(
            title=alert.title,
            url=reverse("supervision:alert", args=[alert.pk]),
            meta=(
                f"{'已逾期 · ' if alert.due_date < today else ''}"
                f"期限 {alert.due_date:%m-%d}{'（暂定）' if alert.due_provisional else ''}"
            ),
            overdue=alert.due_date < today,
        )
        for alert in alerts
    ]
    if not items:
        return None
    return HomePanel(
        title="预警待办",
        items=items,
        more_url=reverse("supervision:alerts"),
        order=30,
        kind="due",
    )


@hooks.register("register_home_panel")
def alerts_entry_panel(request):
    """Who may query data: the open alerts; a 部门联络员: those raised on his or her units."""
    user = request.user
    if not user.is_authenticated:
        return None
    if user.has_perm("cms.query_data"):
        alerts, title = Alert.objects.all(), "监督预警"
    elif is_department_scoped(user) and (unit_ids := department_ids_for(user)):
        alerts, title = Alert.objects.filter(department_id__in=unit_ids), "本单位监督预警"
    else:
        return None
    open_count = alerts.exclude(status=AlertStatus.CLOSED).count()
    items = [
        HomePanelItem(
            title=title, url=reverse("supervision:alerts"), meta=f"未关闭 {open_count} 条"
        )
    ]
    return HomePanel(title=title, items=items, order=41)
