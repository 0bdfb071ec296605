from django.contrib.auth import views as auth_views
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # One way in (docs/security.md): Wagtail's login forms lead to the guarded login;
    # password reset by e-mail and per-page passwords do not exist here. These come
    # before the Wagtail URLs they shadow.
    path("admin/login/", views.other_login),
    path("_util/login/", views.other_login),
    path("admin/password_reset/", views.no_such_way_in),
    path("admin/password_reset/<path:rest>", views.no_such_way_in),
    path("_util/authenticate_with_password/<path:rest>", views.no_such_way_in),
    path("accounts/", include("cms.credentials.urls")),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("webauthn/", include("django_otp_webauthn.urls", namespace="otp_webauthn")),
    path("inbox/", include("cms.notifications.urls")),
    path("usage/", include("cms.usage.urls")),
    path("calendar/", include("cms.workdays.urls")),
    path("search/", include("search.urls")),
    path("policies/", include("policies.urls")),
    path("budget/", include("budget.urls")),
    path("suggestions/insights/", include("suggestions.insights_urls")),
    path("suggestions/", include("suggestions.urls")),
    path("review-opinions/", include("suggestions.opinions.urls")),
    path("briefings/", include("briefings.urls")),
    path("letters/", include("supervision.letters.urls")),
    path("supervision/", include("supervision.urls")),
    path("archive/backups/", include("archive.backup_views")),
    path("archive/", include("archive.urls")),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
]

# /media/ is never served as plain files, in any settings module: every uploaded file
# is reached through a view that checks the reader's permission.

handler403 = "cms.views.permission_denied"
handler404 = "cms.views.page_not_found"
handler400 = "cms.views.bad_request"
handler500 = "cms.views.server_error"

urlpatterns += [path("", include(wagtail_urls))]
