"""Site views of working materials: the schedule, drafting from data, department uploads,
downloads. Views check permissions and call services; rules live in services.py."""

import calendar
import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from cms.usage.models import UsageAction
from cms.usage.services import record_usage

from . import drafting, services, subscriptions, uploads
from .choices import ItemState, MaterialKind, RenditionStatus, SubscriptionChannel
from .models import (
    BriefingPage,
    BriefingRendition,
    DepartmentUpload,
    MaterialType,
    ScheduledItem,
    SubscriptionEvent,
)

STATE_FILTERS = [
    ("open", "未完成"),
    (ItemState.UPCOMING, ItemState.UPCOMING.label),
    (ItemState.DUE, ItemState.DUE.label),
    (ItemState.IN_REVIEW, ItemState.IN_REVIEW.label),
    (ItemState.OVERDUE, ItemState.OVERDUE.label),
    (ItemState.DONE, ItemState.DONE.label),
    ("all", "全部"),
]


def _int(value, default=None, low=None, high=None):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    if (low is not None and number < low) or (high is not None and number > high):
        return default
    return number


def _calendar(year: int, month: int, items) -> list[list[dict]]:
    by_day = {}
    for item in items:
        by_day.setdefault(item.due_date, []).append(item)
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append(
            [{"date": d, "in_month": d.month == month, "items": by_day.get(d, [])} for d in week]
        )
    return weeks


def schedule(request):
    services.require_manager(request.user)
    today = timezone.localdate()
    state = request.GET.get("state") or "open"
    if state not in dict(STATE_FILTERS):
        state = "open"
    year = _int(request.GET.get("year"), today.year, 2000, 2100)
    month = _int(request.GET.get("month"), today.month, 1, 12)
    qs = ScheduledItem.objects.select_related(
        "material_type", "material_type__responsible_department", "briefing"
    )
    if state == "open":
        items = qs.filter(status="open").order_by("due_date", "pk")
    elif state == "all":
        items = qs.filter(year__gte=year - 1).order_by("due_date", "pk")
    else:
        items = services.items_in_state(state, today, qs)
    items = list(items[:300])
    in_review = services.periods_in_review()
    for item in items:
        item.state = services.item_state(item, today, in_review)
        item.state_label = ItemState(item.state).label
        if item.state == ItemState.OVERDUE and services.period_key(item) in in_review:
            item.state_label = f"{ItemState.OVERDUE.label}（审核中）"
        item.draftable = (
            item.material_type.kind == MaterialKind.BRIEFING
            and item.material_type.cadence in drafting.DRAFTABLE_CADENCES
            and item.briefing_id is None
        )
        if item.draftable:
            item.existing = drafting.existing_draft(item.material_type, item.year, item.period)
            item.data_note = _data_note(item, today)
    month_items = qs.filter(due_date__year=year, due_date__month=month)
    first = datetime.date(year, month, 1)
    previous = first - datetime.timedelta(days=1)
    following = first + datetime.timedelta(days=32)
    return render(
        request,
        "briefings/schedule.html",
        {
            "section": "schedule",
            "items": items,
            "state": state,
            "states": STATE_FILTERS,
            "today": today,
            "weeks": _calendar(year, month, month_items),
            "cal_year": year,
            "cal_month": month,
            "prev": (previous.year, previous.month),
            "next": (following.year, following.month),
            "weekdays": ["一", "二", "三", "四", "五", "六", "日"],
        },
    )


def _data_note(item, today) -> str:
    """“数据截至11月” when the period's data (of the draft, or today's data for a period
    not yet drafted) stops before the period's last month."""
    end = services.period_end_month(item.material_type.cadence, item.period)
    if item.existing is not None and item.existing.data_month:
        month = item.existing.data_month
    elif item.period_end <= today:
        month = drafting.data_month(item.year, end)
    else:
        return ""
    if month >= end:
        return ""
    return f"数据截至{month}月" if month else "尚无本期数据"


def draft(request):
    """One click: a draft briefing from the period's budget data (GET confirms, POST makes)."""
    services.require_manager(request.user)
    data = request.POST if request.method == "POST" else request.GET
    material_type = MaterialType.objects.filter(code=data.get("type") or "").first()
    year = _int(data.get("year"), None, 2000, 2100)
    period = _int(data.get("period"), None, 0, 12)
    if material_type is None or year is None or period is None:
        messages.error(request, "请选择资料类型、年度和期间。")
        return redirect("briefings:schedule")
    label = services.period_label(material_type.cadence, year, period)
    if request.method != "POST":
        return render(
            request,
            "briefings/draft_confirm.html",
            {"material_type": material_type, "year": year, "period": period, "label": label},
        )
    try:
        page, created = drafting.create_draft(request.user, material_type, year, period)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
        return redirect("briefings:schedule")
    record_usage(request, UsageAction.UPLOAD, obj=page, detail=f"从数据生成简报初稿 {label}")
    if created:
        messages.success(request, f"已生成《{page.title}》初稿，请编辑后提交负责同志审核。")
    else:
        messages.info(request, f"《{page.title}》已存在，已打开现有稿件。")
    return redirect(reverse("wagtailadmin_pages:edit", args=[page.pk]))


class UploadForm(forms.Form):
    item = forms.ModelChoiceField(label="报送事项", queryset=ScheduledItem.objects.none())
    title = forms.CharField(label="标题（可不填）", max_length=200, required=False)
    file = forms.FileField(label="文件（PDF、DOCX、TXT、Markdown）")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = uploads.pushed_items_for(user).exclude(status="cancelled")


def uploads_view(request):
    user = request.user
    may_upload = (
        user.has_perm(uploads.UPLOAD_PERMISSION) and uploads.pushed_items_for(user).exists()
    )
    visible = uploads.uploads_visible_to(user)
    if not may_upload and not user.has_perm(services.READ_PERMISSION):
        raise PermissionDenied("您的角色无权查看部门报送材料。")
    form = UploadForm(user=user)
    if request.method == "POST":
        if not may_upload:
            raise PermissionDenied("您无权上传报送材料。")
        form = UploadForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            try:
                upload = uploads.upload_material(
                    user, form.cleaned_data["item"], form.cleaned_data["file"],
                    form.cleaned_data["title"],
                )  # fmt: skip
            except ValidationError as error:
                form.add_error("file", error.messages[0])
            else:
                record_usage(request, UsageAction.UPLOAD, obj=upload, detail=upload.filename)
                late = "（已超过截止日期，记为逾期报送）" if upload.is_late else ""
                messages.success(request, f"已上传“{upload.filename}”{late}。")
                return redirect("briefings:uploads")
        elif "item" in form.errors and request.POST.get("item"):
            # an item outside the user's department is not offered: say so plainly
            raise PermissionDenied("您只能为本单位的报送事项上传材料。")
    today = timezone.localdate()
    pending = list(uploads.pushed_items_for(user).filter(status="open").order_by("due_date"))
    in_review = services.periods_in_review()
    for item in pending:
        item.state = services.item_state(item, today, in_review)
        item.state_label = ItemState(item.state).label
    return render(
        request,
        "briefings/uploads.html",
        {
            "section": "uploads",
            "form": form,
            "may_upload": may_upload,
            "pending": pending,
            "uploads": visible[:200],
            "max_mb": uploads.max_upload_mb(),
        },
    )


def upload_detail(request, pk):
    upload = get_object_or_404(DepartmentUpload.objects.select_related("item", "department"), pk=pk)
    if not uploads.may_read_upload(request.user, upload):
        raise PermissionDenied("您无权查看这份报送材料。")
    if request.GET.get("download"):
        record_usage(
            request, UsageAction.VIEW_RESTRICTED, obj=upload, detail=f"下载 {upload.filename}"
        )
        return FileResponse(upload.file.open("rb"), as_attachment=True, filename=upload.filename)
    from cms.usage.services import record_restricted_view

    record_restricted_view(request, upload)
    return render(request, "briefings/upload_detail.html", {"upload": upload, "section": "uploads"})


def rendition_download(request, pk):
    rendition = get_object_or_404(
        BriefingRendition.objects.select_related("page"), pk=pk, status=RenditionStatus.OK
    )
    page = rendition.page
    if not page.live and not services.may_manage(request.user):
        raise Http404
    if not services.can_read_briefing(request.user, page):
        raise PermissionDenied("您无权下载这份简报。")
    record_usage(
        request, UsageAction.VIEW_RESTRICTED, obj=page, detail=f"下载 {rendition.filename}"
    )
    return FileResponse(rendition.file.open("rb"), as_attachment=True, filename=rendition.filename)


@require_POST
def render_now(request, page_id):
    services.require_manager(request.user)
    page = get_object_or_404(BriefingPage, pk=page_id)
    if not page.live:
        messages.error(request, "简报尚未发布，发布后才能生成正式文件。")
        return redirect(page.url or "briefings:schedule")
    from .tasks import render_briefing

    render_briefing.delay(page.pk, page.live_revision_id, request.user.pk)
    messages.success(request, "已安排生成 DOCX/PDF 文件，完成后可在本页下载。")
    return redirect(page.url)


def _wanted_choices(values) -> set[tuple[int, str]]:
    wanted = set()
    for value in values:
        type_id, _, channel = value.partition(":")
        try:
            wanted.add((int(type_id), channel))
        except ValueError:
            raise PermissionDenied("所选资料类型不在您可订阅的范围内。") from None
    return wanted


def subscriptions_view(request):
    """我的资料订阅: the logged-in reader's own choices, per kind and channel."""
    user = request.user
    if not subscriptions.may_subscribe(user):
        raise PermissionDenied("您的角色无权订阅工作资料。")
    if request.method == "POST":
        added, removed = subscriptions.set_choices(
            user, _wanted_choices(request.POST.getlist("choice"))
        )
        if added or removed:
            messages.success(request, f"已保存：新订阅 {added} 项，退订 {removed} 项。")
        else:
            messages.info(request, "订阅没有变化。")
        return redirect("briefings:subscriptions")
    current = subscriptions.choices_of(user)
    rows = [
        {
            "type": material_type,
            "cells": [
                {
                    "value": f"{material_type.pk}:{channel}",
                    "label": label,
                    "checked": (material_type.pk, channel) in current,
                }
                for channel, label in SubscriptionChannel.choices
            ],
        }
        for material_type in subscriptions.offered_types(user).select_related(
            "responsible_department"
        )
    ]
    history = SubscriptionEvent.objects.filter(subscription__user=user).select_related(
        "subscription", "subscription__material_type"
    )
    return render(
        request,
        "briefings/subscriptions.html",
        {
            "section": "subscriptions",
            "rows": rows,
            "channels": SubscriptionChannel.choices,
            "history": history.order_by("-at", "-id")[:20],
            "has_email": bool(user.email),
            "reads_all": subscriptions.reads_all_materials(user),
        },
    )
