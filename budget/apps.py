from django.apps import AppConfig


class BudgetConfig(AppConfig):
    name = "budget"
    verbose_name = "预算数据"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, pre_delete
        from wagtail.signals import page_published, page_unpublished

        from . import signals
        from .models import ImportBatch

        # Any page type may cite figures, so listen to every sender.
        page_published.connect(signals.page_published, dispatch_uid="budget_citations_publish")
        page_unpublished.connect(
            signals.page_unpublished, dispatch_uid="budget_citations_unpublish"
        )
        pre_delete.connect(
            signals.batch_deleting, sender=ImportBatch, dispatch_uid="budget_rollups_pre"
        )
        post_delete.connect(
            signals.batch_deleted, sender=ImportBatch, dispatch_uid="budget_rollups_post"
        )
