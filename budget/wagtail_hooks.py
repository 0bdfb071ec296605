"""Admin of budget data (classification, departments, alert rules, batches), the staff's
home panel of alerts that are due, and the demo loader."""

import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from wagtail import hooks
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from cms.home import HomePanel, HomePanelItem
from cms.nav import NavItem

from .choices import AlertStatus
from .departments import department_ids_for, is_department_scoped
from .models import Alert, AlertRule, Department, ImportBatch, Subject

# Staff (工作人员) and the system administrator maintain budget reference data and rules.
STAFF_PERMISSIONS = (("cms", "handle_alerts"), ("cms", "edit_settings"))
HOME_PANEL_SIZE = 8
DUE_SOON_DAYS = 5


class BudgetStaffPolicy(ModelPermissionPolicy):
    """The model's own permissions, or cms.handle_alerts / cms.edit_settings, allow every action."""

    def user_has_permission(self, user, action):
        if user.is_active and any(user.has_perm(f"{a}.{c}") for a, c in STAFF_PERMISSIONS):
            return True
        return super().user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        perms = Permission.objects.filter(
            Q(content_type__app_label="cms", codename__in=[c for _a, c in STAFF_PERMISSIONS])
        )
        via_staff = (Q(user_permissions__in=perms) | Q(groups__permissions__in=perms)) & Q(
            is_active=True
        )
        via_model = self._get_users_with_any_permission_codenames_filter(
            self._get_permission_codenames(actions)
        )
        return get_user_model().objects.filter(via_model | via_staff).distinct()


for _model in (Subject, Department, AlertRule, ImportBatch):
    register_permission_policy(_model, BudgetStaffPolicy(_model))


class SubjectViewSet(SnippetViewSet):
    model = Subject
    icon = "list-ul"
    menu_label = "收支科目"
    list_display = ["year", "kind", "code", "name", "level", "parent"]
    list_filter = ["year", "kind", "level"]
    search_fields = ["code", "name"]


class DepartmentViewSet(SnippetViewSet):
    model = Department
    icon = "group"
    menu_label = "预算单位"
    list_display = ["code", "name", "parent", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]


class AlertRuleViewSet(SnippetViewSet):
    model = AlertRule
    icon = "warning"
    menu_label = "预警规则"
    list_display = ["name", "kind", "scope", "budget", "threshold", "grade", "is_active"]
    list_filter = ["kind", "grade", "is_active"]
    search_fields = ["name"]


class BudgetViewSetGroup(SnippetViewSetGroup):
    items = (AlertRuleViewSet, SubjectViewSet, DepartmentViewSet)
    menu_label = "预算数据"
    menu_icon = "table"
    menu_name = "budget"


register_snippet(BudgetViewSetGroup)


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
            url=reverse("budget:alert", args=[alert.pk]),
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
        more_url=reverse("budget:alerts"),
        order=30,
        kind="due",
    )


@hooks.register("register_home_panel")
def budget_entry_panel(request):
    """Everyone who may query data: where the budget figures are."""
    user = request.user
    if not (user.is_authenticated and user.has_perm("cms.query_data")):
        return None
    open_count = Alert.objects.exclude(status=AlertStatus.CLOSED).count()
    items = [
        HomePanelItem(title="预算执行情况（类、款、项逐级查看）", url=reverse("budget:execution")),
        HomePanelItem(title="决算与预算对比", url=reverse("budget:final")),
        HomePanelItem(title="三公经费", url=reverse("budget:three_public")),
        HomePanelItem(
            title="监督预警", url=reverse("budget:alerts"), meta=f"未关闭 {open_count} 条"
        ),
    ]
    return HomePanel(title="预算数据", items=items, order=40)


@hooks.register("register_demo_loader")
def load_budget_demo(stdout):
    from .demo import load_demo

    load_demo(stdout)


@hooks.register("register_site_nav")
def budget_nav(request):
    if request.user.has_perm("cms.query_data"):
        return NavItem("预算数据", reverse("budget:index"), order=30)
    if is_department_scoped(request.user) and department_ids_for(request.user):
        return NavItem("本单位预算", reverse("budget:index"), order=30)
    return None


@hooks.register("register_home_panel")
def unit_budget_panel(request):
    """部门联络员: the unit's execution and the alerts raised on it."""
    user = request.user
    if user.has_perm("cms.query_data") or not is_department_scoped(user):
        return None
    unit_ids = department_ids_for(user)
    if not unit_ids:
        return None
    open_count = (
        Alert.objects.filter(department_id__in=unit_ids).exclude(status=AlertStatus.CLOSED).count()
    )
    items = [
        HomePanelItem(title="本单位预算执行情况", url=reverse("budget:execution")),
        HomePanelItem(
            title="本单位监督预警", url=reverse("budget:alerts"), meta=f"未关闭 {open_count} 条"
        ),
    ]
    return HomePanel(title="本单位预算", items=items, order=40)
