from django.apps import AppConfig


class SavedSearchConfig(AppConfig):
    name = "search.saved"
    label = "saved_search"
    verbose_name = "保存的检索"

    def ready(self):
        from wagtail.signals import page_published

        from .signals import announce_published_page

        page_published.connect(announce_published_page, dispatch_uid="saved-search-page-published")
