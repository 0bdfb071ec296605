from django.urls import path

from . import views
from .exports import ExcerptExportView

app_name = "policies"

urlpatterns = [
    path("", views.browse, name="browse"),
    path("bookmarks/", views.my_bookmarks, name="bookmarks"),
    path("excerpts/", views.my_excerpts, name="excerpts"),
    path("excerpts/export/", ExcerptExportView.as_view(), name="export_excerpts"),
    path("excerpts/<int:excerpt_id>/delete/", views.delete_excerpt, name="delete_excerpt"),
    path("<int:page_id>/print/", views.print_view, name="print"),
    path("<int:page_id>/bookmark/", views.toggle_bookmark, name="bookmark"),
    path("<int:page_id>/excerpt/", views.add_excerpt, name="excerpt"),
    path("files/<int:file_id>/", views.download_original, name="download"),
]
