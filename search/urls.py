from django.urls import path

from . import views
from .saved import views as saved_views

app_name = "search"

urlpatterns = [
    path("", views.search_page, name="index"),
    path("suggest/", views.suggest, name="suggest"),
    path("saved/", saved_views.saved_list, name="saved_list"),
    path("saved/new/", saved_views.saved_create, name="saved_create"),
    path("saved/<int:pk>/subscription/", saved_views.saved_subscription, name="saved_subscription"),
    path("saved/<int:pk>/delete/", saved_views.saved_delete, name="saved_delete"),
]
