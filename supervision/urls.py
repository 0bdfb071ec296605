from django.urls import path

from . import views

app_name = "supervision"

urlpatterns = [
    path("", views.index, name="index"),
    path("debt/", views.debt, name="debt"),
    path("debt/maturity/", views.maturity, name="maturity"),
    path("debt/bonds/", views.bonds, name="bonds"),
    path("debt/export/", views.DebtExportView.as_view(), name="export"),
    path("imports/", views.imports, name="imports"),
    path("imports/<int:pk>/", views.batch_detail, name="batch"),
    path("imports/template/<str:kind>.<str:fmt>", views.template_download, name="template"),
    path("audit/", views.findings, name="findings"),
    path("audit/<int:pk>/", views.finding, name="finding"),
    path("audit/evidence/<int:pk>/", views.evidence, name="evidence"),
    path("audit/report/<int:year>.docx", views.audit_report, name="audit_report"),
]

# 国有资产
urlpatterns += [
    path("assets/", views.assets, name="assets"),
    path("assets/export/", views.AssetExportView.as_view(), name="asset_export"),
]

from . import alert_views, query_views  # noqa: E402

# 监督预警 (moved from budget/; /budget/alerts/… redirects here)
urlpatterns += [
    path("alerts/", alert_views.alert_list, name="alerts"),
    path("alerts/<int:pk>/", alert_views.alert_detail, name="alert"),
    path("alerts/<int:pk>/handle/", alert_views.alert_transition, name="alert_handle"),
]

urlpatterns += [
    path("queries/", query_views.query_list, name="queries"),
    path("queries/new/", query_views.query_new, name="query_new"),
    path("queries/<int:pk>/", query_views.query_detail, name="query"),
    path("queries/<int:pk>/move/", query_views.query_move, name="query_move"),
    path("queries/<int:pk>/answer/", query_views.query_answer, name="query_answer"),
    path("queries/<int:pk>/file/", query_views.query_file, name="query_file"),
]
