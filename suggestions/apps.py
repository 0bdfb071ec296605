from django.apps import AppConfig


class SuggestionsConfig(AppConfig):
    name = "suggestions"
    verbose_name = "代表建议"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import searchables

        searchables.register()
