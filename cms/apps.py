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


class UsersConfig(WagtailUsersAppConfig):
    """Wagtail's user admin with our forms (seat limits, Chinese fields)."""

    user_viewset = "cms.admin_users.UserViewSet"
