from django.urls import path

from . import views

app_name = "suggestions"

urlpatterns = [
    path("", views.suggestion_list, name="list"),
    path("export/", views.SuggestionExportView.as_view(), name="export"),
    path("new/", views.submit, name="submit"),
    path("import/", views.import_list, name="import"),
    path("mine/", views.mine, name="mine"),
    path("mine/<int:pk>/", views.mine_detail, name="mine_detail"),
    path("department/", views.department, name="department"),
    path("department/<int:pk>/", views.department_detail, name="department_detail"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/step/<slug:name>/", views.step, name="step"),
    path("<int:pk>/file/<slug:kind>/<int:doc_id>/", views.download, name="download"),
]
