from django.urls import path

from . import views

app_name = "letters"

urlpatterns = [
    path("", views.letter_list, name="list"),
    path("<int:pk>/", views.letter_detail, name="detail"),
    path("from-alert/<int:alert_pk>/", views.generate, name="generate"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/act/", views.act, name="act"),
    path("<int:pk>/send/", views.send, name="send"),
    path("<int:pk>/receive/", views.receive, name="receive"),
    path("<int:pk>/answer/", views.answer, name="answer"),
    path("<int:pk>/render/", views.render_request, name="render"),
    path("<int:pk>/download/<str:fmt>/", views.download, name="download"),
    path("answers/<int:pk>/file/", views.answer_file, name="answer_file"),
]
