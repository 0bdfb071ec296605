"""Admin of budget data (classification, departments, batches), the home panels that lead to
the figures, and the demo loader. Alert rules and the alerts panels are supervision's."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.urls import reverse
from wagtail import hooks
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from cms.home import HomePanel, HomePanelItem
from cms.nav import NavItem

from .departments import department_ids_for, is_department_scoped
from .models import Department, ImportBatch, Subject

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


for _model in (Subject, Department, ImportBatch):
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


class BudgetViewSetGroup(SnippetViewSetGroup):
    items = (SubjectViewSet, DepartmentViewSet)
    menu_label = "预算数据"
    menu_icon = "table"
    menu_name = "budget"


register_snippet(BudgetViewSetGroup)


@hooks.register("register_home_panel")
def budget_entry_panel(request):
    """Everyone who may query data: where the budget figures are."""
    user = request.user
    if not (user.is_authenticated and user.has_perm("cms.query_data")):
        return None
    items = [
        HomePanelItem(title="预算执行情况（类、款、项逐级查看）", url=reverse("budget:execution")),
        HomePanelItem(title="决算与预算对比", url=reverse("budget:final")),
        HomePanelItem(title="三公经费", url=reverse("budget:three_public")),
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
    """部门联络员: the unit's execution (its alerts: supervision's panel)."""
    user = request.user
    if user.has_perm("cms.query_data") or not is_department_scoped(user):
        return None
    unit_ids = department_ids_for(user)
    if not unit_ids:
        return None
    items = [HomePanelItem(title="本单位预算执行情况", url=reverse("budget:execution"))]
    return HomePanel(title="本单位预算", items=items, order=40)
