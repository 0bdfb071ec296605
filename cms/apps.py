from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_migrate, pre_save
from wagtail.users.apps import WagtailUsersAppConfig


class CmsConfig(AppConfig):
    default = True
    name = "cms"
    verbose_name = "系统核心"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import roles, signals

        post_migrate.connect(roles.sync_after_migrate, dispatch_uid="cms_sync_roles")
        from django.contrib.auth import get_user_model

        m2m_changed.connect(
            signals.enforce_seat_limits,
            sender=get_user_model().groups.through,
            dispatch_uid="cms_seat_limits",
        )
        pre_save.connect(
            signals.enforce_seats_on_save,
            sender=get_user_model(),
            dispatch_uid="cms_seat_limits_on_save",
        )
        name_people_in_admin_sidebar()
        label_site_columns()


def label_site_columns():
    """Wagtail's site list labels three columns from their attribute names (“Port”, “Site
    name”, “Root page”), outside any translation; label them with the model fields' own
    (translated) names instead."""
    from django.utils.text import capfirst
    from wagtail.models import Site
    from wagtail.sites.views import IndexView

    for column in IndexView.columns:
        if column.name in ("port", "site_name", "root_page"):
            column.label = capfirst(Site._meta.get_field(column.name).verbose_name)


def name_people_in_admin_sidebar():
    """Wagtail's sidebar account menu shows ``first_name`` or else the username; accounts
    here are named by 姓名 (display_name, returned by get_full_name), so the menu showed
    “admin”, “staff”. The sidebar builds its module from this module attribute at each
    request; the subclass keeps Wagtail's JS adapter (found through the class's MRO)."""
    from wagtail.admin.ui import sidebar

    if getattr(sidebar.MainMenuModule, "shows_full_name", False):
        return

    class NamedMainMenuModule(sidebar.MainMenuModule):
        shows_full_name = True

        def js_args(self):
            args = super().js_args()
            full_name = getattr(self.user, "get_full_name", lambda: "")()
            if full_name:
                args[2]["name"] = full_name
            return args

    sidebar.MainMenuModule = NamedMainMenuModule


class UsersConfig(WagtailUsersAppConfig):
    """Wagtail's user admin with our forms (seat limits, Chinese fields)."""

    user_viewset = "cms.admin_users.UserViewSet"
