from django.apps import AppConfig


class SearchTestAppConfig(AppConfig):
    """Models used only by the search backend tests."""

    name = "tests.search.testapp"
    label = "searchtestapp"
