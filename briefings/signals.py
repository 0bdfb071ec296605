"""Wagtail signals → briefing services (numbering, push, events, notifications)."""

from django.urls import reverse

from cms.notifications.services import notify


def briefing_published(sender, instance, revision=None, **kwargs):
    from cms.usage.services import acting_user_and_name

    from .services import on_published

    user = getattr(instance, "_publishing_user", None) or acting_user_and_name()[0]
    on_published(instance, user=user)


def briefing_unpublished(sender, instance, **kwargs):
    from cms.usage.services import acting_user_and_name

    from .services import on_unpublished

    on_unpublished(instance, user=acting_user_and_name()[0])


def _briefing_of(task_state):
    from .models import BriefingPage, HeadApprovalTask

    if not isinstance(task_state.task.specific, HeadApprovalTask):
        return None, None
    page = task_state.workflow_state.content_object
    page = getattr(page, "specific", page)
    if not isinstance(page, BriefingPage):
        return None, None
    return page, task_state.task.specific


def _edit_url(page) -> str:
    return reverse("wagtailadmin_pages:edit", args=[page.pk])


def task_submitted(sender, instance, user=None, **kwargs):
    from .models import BriefingEvent

    page, task = _briefing_of(instance)
    if page is None:
        return
    BriefingEvent.objects.create(page=page, actor=user, action="提交审核")
    notify(
        task.approver,
        f"待审批：{page.title}",
        body=f"{getattr(user, 'display_name', '') or user or '工作人员'}提交了《{page.title}》，请审批。",
        url=_edit_url(page),
        category="briefings",
    )


def task_approved(sender, instance, user=None, **kwargs):
    from .models import BriefingEvent

    page, _task = _briefing_of(instance)
    if page is None:
        return
    BriefingEvent.objects.create(page=page, actor=user, action="审批通过", note=instance.comment)


def task_rejected(sender, instance, user=None, **kwargs):
    from .models import BriefingEvent

    page, _task = _briefing_of(instance)
    if page is None:
        return
    BriefingEvent.objects.create(page=page, actor=user, action="退回修改", note=instance.comment)
    drafter = instance.workflow_state.requested_by
    if drafter is not None:
        notify(
            drafter,
            f"退回修改：{page.title}",
            body=f"负责同志退回了《{page.title}》。意见：{instance.comment or '（无）'}",
            url=_edit_url(page),
            category="briefings",
        )
