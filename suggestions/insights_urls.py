from django.urls import path

from . import insights_views as views

app_name = "suggestion_insights"

urlpatterns = [
    path("stats/", views.stats_page, name="stats"),
    path("stats/export/", views.StatisticsExportView.as_view(), name="stats_export"),
    path("hot-topics/", views.hot_topics_page, name="hot_topics"),
]
