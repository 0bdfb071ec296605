"""Admin for the working-day calendar (工作日历): holiday notices and overrides,
and a dashboard warning when a year staff need is not covered yet."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q
from wagtail import hooks
from wagtail.admin.ui.components import Component
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import CreateView, SnippetViewSet, SnippetViewSetGroup

from . import services
from .models import DayOverride, HolidayNotice

SETTINGS_PERMISSION = ("cms", "edit_settings")


class CalendarPermissionPolicy(ModelPermissionPolicy):
    """The model's own permissions, or cms.edit_settings, allow every action."""

    def user_has_permission(self, user, action):
        if user.is_active and user.has_perm(".".join(SETTINGS_PERMISSION)):
            return True
        return super().user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        app_label, codename = SETTINGS_PERMISSION
        settings_perm = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        )
        via_settings = (
            Q(user_permissions__in=settings_perm) | Q(groups__permissions__in=settings_perm)
        ) & Q(is_active=True)
        via_model = self._get_users_with_any_permission_codenames_filter(
            self._get_permission_codenames(actions)
        )
        return get_user_model().objects.filter(via_model | via_settings).distinct()


register_permission_policy(HolidayNotice, CalendarPermissionPolicy(HolidayNotice))
register_permission_policy(DayOverride, CalendarPermissionPolicy(DayOverride))


class NoticeCreateView(CreateView):
    def save_instance(self):
        self.form.instance.entered_by = self.request.user
        return super().save_instance()


class HolidayNoticeViewSet(SnippetViewSet):
    model = HolidayNotice
    icon = "date"
    menu_label = "放假通知"
    add_view_class = NoticeCreateView
    list_display = ["year", "title", "reference", "published_on", "entered_by", "entered_at"]
    search_fields = ["title", "reference"]


class DayOverrideViewSet(SnippetViewSet):
    model = DayOverride
    icon = "calendar-alt"
    menu_label = "节假日调整"
    list_display = ["date", "kind", "name", "notice"]
    list_filter = ["kind", "notice"]
    search_fields = ["name"]


class WorkdaysViewSetGroup(SnippetViewSetGroup):
    items = (HolidayNoticeViewSet, DayOverrideViewSet)
    menu_label = "工作日历"
    menu_icon = "date"
    menu_name = "workdays"


register_snippet(WorkdaysViewSetGroup)


class CalendarCoveragePanel(Component):
    """Dashboard warning: a year is not covered, so its deadlines are provisional."""

    name = "workdays_coverage"
    order = 10
    template_name = "workdays/admin/coverage_panel.html"

    def __init__(self, years, can_edit):
        self.years = years
        self.can_edit = can_edit

    def get_context_data(self, parent_context):
        return {"years": self.years, "can_edit": self.can_edit}


@hooks.register("construct_homepage_panels")
def add_coverage_panel(request, panels):
    years = services.uncovered_years_to_warn()
    if years:
        policy = CalendarPermissionPolicy(HolidayNotice)
        can_edit = policy.user_has_permission(request.user, "add")
        panels.append(CalendarCoveragePanel(years, can_edit))
