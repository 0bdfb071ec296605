"""使用记录: each finished month of the usage log is one item (a CSV of every record,
and a rendition with the month's totals and, for a small month, every record)."""

from __future__ import annotations

import calendar
import datetime
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db.models.functions import TruncMonth
from django.utils import timezone

from archive.sources import FilingMaterial, Heading, Paragraph, Table, register_source

from .common import local_text, office_name

HEADERS = ["时间", "账号", "操作", "地址", "网址", "对象类型", "对象编号", "对象", "详情"]


@dataclass(frozen=True)
class UsageMonth:
    year: int
    month: int

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def last_day(self) -> datetime.date:
        return datetime.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def records(self):
        from cms.usage.models import UsageRecord

        tz = timezone.get_current_timezone()
        start = datetime.datetime(self.year, self.month, 1, tzinfo=tz)
        end = datetime.datetime.combine(
            self.last_day + datetime.timedelta(days=1), datetime.time(), tz
        )
        return UsageRecord.objects.filter(created_at__gte=start, created_at__lt=end).order_by(
            "created_at", "pk"
        )

    def __str__(self):
        return f"使用记录 {self.year}年{self.month}月"


def parse(source_id: str) -> UsageMonth:
    try:
        year, month = (int(part) for part in source_id.split("-"))
        return UsageMonth(year, month) if 1 <= month <= 12 else _bad(source_id)
    except ValueError:
        return _bad(source_id)


def _bad(source_id):
    raise LookupError(f"“{source_id}”不是有效的月份。")


def finished_months() -> list[UsageMonth]:
    """Months with records, before the current one (a month is filed once it is over)."""
    from cms.usage.models import UsageRecord

    today = timezone.localdate()
    months = (
        UsageRecord.objects.annotate(m=TruncMonth("created_at"))
        .values_list("m", flat=True)
        .distinct()
        .order_by("m")
    )
    found = []
    for value in months:
        value = timezone.localtime(value) if isinstance(value, datetime.datetime) else value
        if (value.year, value.month) < (today.year, today.month):
            found.append(UsageMonth(value.year, value.month))
    return sorted(set(found), key=lambda m: m.key)


def describe(month: UsageMonth) -> FilingMaterial:
    from cms.usage.exports import csv_export

    records = list(month.records())
    rows = [
        [
            local_text(r.created_at),
            r.username,
            r.get_action_display(),
            r.ip_address or "",
            r.path,
            r.object_type,
            r.object_id,
            r.object_repr,
            r.detail,
        ]
        for r in records
    ]
    csv_file = csv_export(str(month), HEADERS, rows, filename=f"使用记录-{month.key}.csv")
    by_action = Counter(r.get_action_display() for r in records)
    by_user = Counter(r.username or "（匿名）" for r in records)
    limit = int(getattr(settings, "ARCHIVE_USAGE_RENDITION_ROWS", 300))
    blocks = [
        Paragraph(
            f"{month.year}年{month.month}月共 {len(records)} 条使用记录，全部记录见原件 CSV。"
        ),
        Heading("按操作统计", 2),
        Table(["操作", "次数"], sorted(by_action.items(), key=lambda kv: -kv[1])),
        Heading("按账号统计", 2),
        Table(["账号", "次数"], sorted(by_user.items(), key=lambda kv: -kv[1])),
    ]
    if len(records) <= limit:
        blocks += [
            Heading("全部记录", 2),
            Table(HEADERS[:3] + ["对象", "详情"], [r[:3] + r[7:9] for r in rows]),
        ]
    return FilingMaterial(
        title=f"{month.year}年{month.month}月系统使用记录",
        date=month.last_day,
        record_type="usage_log",
        responsible=office_name(),
        files=[(csv_file.filename, csv_file.content)],
        blocks=blocks,
        metadata={
            "月份": month.key,
            "记录数": len(records),
            "首条编号": records[0].pk if records else None,
            "末条编号": records[-1].pk if records else None,
            "按操作统计": dict(by_action),
        },
    )


def register():
    from cms.usage.models import UsageRecord

    register_source(
        "usage.month",
        model=UsageRecord,
        label="月度使用记录",
        record_type="usage_log",
        describe=describe,
        candidates=finished_months,
        get_object=parse,
        source_id=lambda month: month.key,
        display=str,
    )
