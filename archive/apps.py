from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = "立卷归档"
    default_auto_field = "django.db.models.BigAutoField"
