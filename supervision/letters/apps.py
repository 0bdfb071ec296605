from django.apps import AppConfig


class LettersConfig(AppConfig):
    """通报 and letters (函) that follow budget alerts, with their 发文字号 and answers."""

    name = "supervision.letters"
    label = "letters"
    verbose_name = "预警函件"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import searchables

        searchables.register()
