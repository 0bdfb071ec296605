from django.urls import path

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
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert"),
    path("alerts/<int:pk>/handle/", views.alert_transition, name="alert_handle"),
]
