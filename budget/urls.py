from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "budget"

urlpatterns = [
    path("", views.index, name="index"),
    path("execution/", views.execution, name="execution"),
    path("departments/", views.departments, name="departments"),
    path("final/", views.final_accounts, name="final"),
    path("three-public/", views.three_public, name="three_public"),
    path("compare/", views.compare, name="compare"),
    path("trend/", views.trend, name="trend"),
    path("export/", views.ReportExportView.as_view(), name="export"),
    path("figure/", views.figure, name="figure"),
    path("imports/", views.imports, name="imports"),
    path("imports/<int:pk>/", views.batch_detail, name="batch"),
    path("imports/template.<str:fmt>", views.template_download, name="template"),
    # alerts moved to supervision/ (issue 18); old addresses, e.g. in e-mails, still lead there
    path(
        "alerts/",
        RedirectView.as_view(url="/supervision/alerts/", query_string=True, permanent=True),
    ),
    path(
        "alerts/<int:pk>/",
        RedirectView.as_view(url="/supervision/alerts/%(pk)s/", permanent=True),
    ),
]
