from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = "立卷归档"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Celery's autodiscovery looks only for tasks.py; the backup has its own module.
        from . import backup_tasks  # noqa: F401
        from .searchables import register as register_searchables
        from .source_adapters import register_all as register_sources

        register_sources()
        register_searchables()
