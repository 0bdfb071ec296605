from django.urls import path

from . import views

app_name = "usage"

urlpatterns = [
    path("records/", views.UsageReportView.as_view(), name="records"),
    path(
        "records/results/",
        views.UsageReportView.as_view(results_only=True),
        name="records_results",
    ),
    path("records/export/", views.UsageRecordExportView.as_view(), name="records_export"),
    path("exports/", views.ExportRegistrationReportView.as_view(), name="exports"),
    path(
        "exports/results/",
        views.ExportRegistrationReportView.as_view(results_only=True),
        name="exports_results",
    ),
    path(
        "exports/export/",
        views.ExportRegistrationExportView.as_view(),
        name="exports_export",
    ),
]
