from django.urls import path

from . import admin_views

app_name = "credentials_admin"

urlpatterns = [
    path("", admin_views.index, name="index"),
    path("<int:user_id>/", admin_views.user_detail, name="user"),
    path("<int:user_id>/revoke/", admin_views.revoke, name="revoke"),
    path("<int:user_id>/report-lost/", admin_views.report_lost, name="report_lost"),
    path("<int:user_id>/reset/", admin_views.reset, name="reset"),
]
