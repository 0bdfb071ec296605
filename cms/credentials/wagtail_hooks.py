from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import admin_urls, services


class CredentialsMenuItem(MenuItem):
    def is_shown(self, request):
        return services.can_manage(request.user)


@hooks.register("register_admin_urls")
def register_credentials_admin_urls():
    return [path("credentials/", include(admin_urls, namespace="credentials_admin"))]


@hooks.register("register_admin_menu_item")
def register_credentials_menu_item():
    return CredentialsMenuItem(
        "账户凭证", reverse("credentials_admin:index"), icon_name="key", order=9000
    )
