from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.static import serve as serve_media
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
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
    path("letters/", include("briefings.letters.urls")),
    path("supervision/", include("supervision.urls")),
    path("archive/backups/", include("archive.backup_views")),
    path("archive/", include("archive.urls")),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
]

if settings.DEBUG:
    urlpatterns += [
        path("media/<path:path>", serve_media, {"document_root": settings.MEDIA_ROOT}),
    ]

handler403 = "cms.views.permission_denied"
handler404 = "cms.views.page_not_found"

urlpatterns += [path("", include(wagtail_urls))]
