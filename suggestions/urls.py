from django.urls import path

from . import portal_views, views

app_name = "suggestions"

urlpatterns = [
    path("", views.suggestion_list, name="list"),
    path("export/", views.SuggestionExportView.as_view(), name="export"),
    path("new/", views.submit, name="submit"),
    path("import/", views.import_list, name="import"),
    path("mine/", views.mine, name="mine"),
    path("mine/new/", portal_views.draft_new, name="draft_new"),
    path("mine/<int:pk>/edit/", portal_views.draft_edit, name="draft_edit"),
    path("password/", portal_views.password_change, name="password_change"),
    path("accounts/", portal_views.open_accounts, name="open_accounts"),
    path("similar/", portal_views.similar, name="similar"),
    path("review/", portal_views.review_queue, name="review"),
    path("mine/<int:pk>/", views.mine_detail, name="mine_detail"),
    path("department/", views.department, name="department"),
    path("department/<int:pk>/", views.department_detail, name="department_detail"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/step/<slug:name>/", views.step, name="step"),
    path("<int:pk>/file/<slug:kind>/<int:doc_id>/", views.download, name="download"),
]
