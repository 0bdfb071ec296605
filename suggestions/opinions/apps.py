from django.apps import AppConfig


class ReviewOpinionsConfig(AppConfig):
    name = "suggestions.opinions"
    label = "review_opinions"
    verbose_name = "预算审议意见"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import searchables

        searchables.register()
