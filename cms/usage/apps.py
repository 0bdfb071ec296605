from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "cms.usage"
    label = "usage"
    verbose_name = "使用记录"

    def ready(self):
        from . import permission_changes, signals  # noqa: F401

        permission_changes.connect()
