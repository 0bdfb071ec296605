from django.apps import AppConfig


class SavedSearchConfig(AppConfig):
    name = "search.saved"
    label = "saved_search"
    verbose_name = "保存的检索"
