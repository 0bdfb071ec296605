from django.apps import AppConfig


class SuggestionsConfig(AppConfig):
    name = "suggestions"
    verbose_name = "代表建议"
    default_auto_field = "django.db.models.BigAutoField"
