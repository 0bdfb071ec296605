from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SearchConfig(AppConfig):
    name = "search"
    label = "site_search"
    verbose_name = "全文检索"

    def ready(self):
        from .integrity import index_after_migrate

        post_migrate.connect(index_after_migrate, dispatch_uid="search_index_after_migrate")
