from django.apps import AppConfig


class BriefingsConfig(AppConfig):
    name = "briefings"
    verbose_name = "工作资料"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from wagtail.models import TaskState
        from wagtail.signals import (
            page_published,
            page_unpublished,
            task_approved,
            task_rejected,
            task_submitted,
        )

        from . import searchables, signals
        from .models import BriefingPage

        page_published.connect(
            signals.briefing_published, sender=BriefingPage, dispatch_uid="briefings_published"
        )
        page_unpublished.connect(
            signals.briefing_unpublished, sender=BriefingPage, dispatch_uid="briefings_unpublished"
        )
        task_submitted.connect(
            signals.task_submitted,
            sender=TaskState,
            dispatch_uid="briefings_task_submitted",
        )
        task_approved.connect(
            signals.task_approved,
            sender=TaskState,
            dispatch_uid="briefings_task_approved",
        )
        task_rejected.connect(
            signals.task_rejected,
            sender=TaskState,
            dispatch_uid="briefings_task_rejected",
        )
        searchables.register()
