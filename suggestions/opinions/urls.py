from django.urls import path

from . import views

app_name = "review_opinions"

urlpatterns = [
    path("", views.opinion_list, name="list"),
    path("<int:pk>/", views.opinion_detail, name="detail"),
    path("import/", views.opinion_import, name="import"),
    path("import/template.xlsx", views.import_template, name="import_template"),
]
