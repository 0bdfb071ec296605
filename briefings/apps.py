from django.apps import AppConfig


class BriefingsConfig(AppConfig):
    name = "briefings"
    verbose_name = "工作资料"
    default_auto_field = "django.db.models.BigAutoField"
