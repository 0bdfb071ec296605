from django.urls import path

from . import views

app_name = "archive"

urlpatterns = [
    path("", views.index, name="index"),
    path("candidates/", views.candidates, name="candidates"),
    path("file/", views.file_source, name="file"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("items/<int:pk>/purpose/", views.item_purpose, name="item_purpose"),
    path("items/<int:pk>/retry/", views.retry, name="retry"),
    path("items/<int:pk>/files/<int:file_pk>/", views.download, name="download"),
    path("catalogue/", views.catalogue_view, name="catalogue"),
    path(
        "catalogue/export/<str:fmt>/",
        views.CatalogueExportView.as_view(),
        name="catalogue_export",
    ),
    path("review/", views.review, name="review"),
    path("access/", views.access_register, name="access"),
    path("fixity/", views.fixity_reports, name="fixity"),
    path("fixity/<int:pk>/", views.fixity_report, name="fixity_report"),
]
