from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "briefings"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="briefings:schedule"), name="home"),
    path("schedule/", views.schedule, name="schedule"),
    path("draft/", views.draft, name="draft"),
    path("uploads/", views.uploads_view, name="uploads"),
    path("uploads/<int:pk>/", views.upload_detail, name="upload"),
    path("subscriptions/", views.subscriptions_view, name="subscriptions"),
    path("renditions/<int:pk>/", views.rendition_download, name="rendition"),
    path("pages/<int:page_id>/render/", views.render_now, name="render"),
]
