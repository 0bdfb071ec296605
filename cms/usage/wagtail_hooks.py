from django.urls import reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from .views import can_read_usage_log


class UsageLogMenuItem(MenuItem):
    def is_shown(self, request):
        return can_read_usage_log(request.user)


@hooks.register("register_reports_menu_item")
def register_usage_report_menu_item():
    return UsageLogMenuItem(
        "使用记录", reverse("usage:records"), name="usage-records", icon_name="list-ul", order=50
    )


@hooks.register("register_reports_menu_item")
def register_export_registrations_menu_item():
    return UsageLogMenuItem(
        "导出备案登记",
        reverse("usage:exports"),
        name="usage-export-registrations",
        icon_name="download",
        order=51,
    )


@hooks.register("insert_global_admin_css")
def usage_report_css():
    from django.templatetags.static import static
    from django.utils.html import format_html

    return format_html('<link rel="stylesheet" href="{}">', static("usage/report.css"))
