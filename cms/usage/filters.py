"""Filters of the usage report (使用记录) and of the export registrations (备案登记)."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet

from cms.roles import ROLES

from .models import ExportRegistration, UsageAction, UsageRecord


def _users_with(related_name):
    User = get_user_model()
    return (
        User.objects.filter(**{f"{related_name}__isnull": False})
        .distinct()
        .order_by(User.USERNAME_FIELD)
    )


class UserChoiceFilter(django_filters.ModelChoiceFilter):
    """A user picker listing only the people who appear in the report."""

    def __init__(self, *args, related_name, **kwargs):
        kwargs.setdefault("label", "用户")
        kwargs.setdefault("empty_label", "全部用户")
        kwargs.setdefault("widget", forms.Select)
        super().__init__(*args, queryset=lambda request: _users_with(related_name), **kwargs)


class UsageRecordFilterSet(WagtailFilterSet):
    user = UserChoiceFilter(related_name="usage_records")
    action = django_filters.ChoiceFilter(
        label="操作", choices=UsageAction.choices, empty_label="全部操作", widget=forms.Select
    )
    created_at = django_filters.DateFromToRangeFilter(label="日期", widget=DateRangePickerWidget)
    ip_address = django_filters.CharFilter(
        label="地址", lookup_expr="istartswith", help_text="IP 地址或其开头，如 10.1."
    )
    q = django_filters.CharFilter(
        label="关键词", method="filter_keyword", help_text="在账号、对象、详情和网址中查找"
    )

    class Meta:
        model = UsageRecord
        fields = []

    def filter_keyword(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(username__icontains=value)
            | Q(object_repr__icontains=value)
            | Q(object_type__icontains=value)
            | Q(detail__icontains=value)
            | Q(path__icontains=value)
        )


class ExportRegistrationFilterSet(WagtailFilterSet):
    user = UserChoiceFilter(related_name="export_registrations")
    module = django_filters.ChoiceFilter(
        label="模块", empty_label="全部模块", widget=forms.Select, choices=[]
    )
    role = django_filters.ChoiceFilter(
        label="导出时角色",
        empty_label="全部角色",
        widget=forms.Select,
        choices=[(role, role) for role in ROLES],
    )
    created_at = django_filters.DateFromToRangeFilter(label="日期", widget=DateRangePickerWidget)
    ip_address = django_filters.CharFilter(label="地址", lookup_expr="istartswith")
    q = django_filters.CharFilter(
        label="关键词",
        method="filter_keyword",
        help_text="在导出内容、用途、文件名和摘要中查找",
    )

    class Meta:
        model = ExportRegistration
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        modules = (
            ExportRegistration.objects.exclude(module="")
            .order_by("module")
            .values_list("module", flat=True)
            .distinct()
        )
        self.filters["module"].extra["choices"] = [(m, m) for m in modules]

    def filter_keyword(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(description__icontains=value)
            | Q(purpose__icontains=value)
            | Q(filename__icontains=value)
            | (Q(sha256__istartswith=value) if len(value) >= 8 else Q(pk__in=[]))
            | Q(username__icontains=value)
        )


def describe_filters(filterset) -> str:
    """The active filters in words, e.g. "操作：导出；日期：2026-03-01 至 2026-03-31"."""
    form = filterset.form
    if not form.is_valid():
        return ""
    parts = []
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if value in (None, "", []):
            continue
        if isinstance(value, slice):
            start = value.start.date().isoformat() if value.start else "不限"
            stop = value.stop.date().isoformat() if value.stop else "不限"
            if not value.start and not value.stop:
                continue
            text = f"{start} 至 {stop}"
        elif hasattr(field, "choices") and not hasattr(value, "pk"):
            text = str(dict(field.choices).get(value, value))
        else:
            text = str(value)
        parts.append(f"{field.label}：{text}")
    return "；".join(parts)
