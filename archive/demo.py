"""Demo: a filed archive with items from every module that can be filed.

Idempotent: records already filed are skipped; items left half-made by an interrupted
run are finished. All renditions are made in one batch (two LibreOffice runs)."""

from __future__ import annotations

import datetime
import time

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .models import ArchiveItem, ItemStatus
from .rendition import RenditionError, soffice_command
from .sources import unfiled_candidates

# how many records of each kind the demo files (keeps load_demo fast)
DEMO_LIMITS = {
    "policies.policypage": 12,
    "budget.alert": 6,
    "usage.exportregistration": 6,
    "usage.month": 3,
    "suggestions.suggestion": 6,
    "briefings.briefingpage": 4,
    "briefings.departmentupload": 3,
}
DEMO_TAG = "（演示）"


def _say(stdout, text):
    if stdout is not None:
        stdout.write(text + "\n")


def _demo_exports(user):
    """A few registered exports by the demo accounts, if the site has none yet."""
    from cms.usage.exports import xlsx_export
    from cms.usage.models import ExportRegistration

    if ExportRegistration.objects.exists():
        return
    User = get_user_model()
    for username, description, purpose in [
        ("deputy", "2026年一般公共预算执行情况（功能分类）", "准备预算执行情况审议发言"),
        ("staff", "三公经费逐单位对比", "编写三公经费专题分析"),
        ("deputy", "县教育体育局预算执行明细", "走访调研前了解情况"),
    ]:
        exporter = User.objects.filter(username=username).first() or user
        export = xlsx_export(description, ["项目", "金额"], [["合计", 0]])
        ExportRegistration.objects.create(
            user=exporter,
            username=exporter.get_username(),
            role="",
            module="预算数据",
            description=description + DEMO_TAG,
            purpose=purpose,
            filename=export.filename,
            file_format="xlsx",
            row_count=export.rows,
            byte_size=len(export.content),
            sha256=export.sha256,
        )


def _demo_usage_months(user):
    """Usage records in the two months before this one, so there are finished months."""
    from cms.usage.models import UsageAction, UsageRecord

    today = timezone.localdate()
    first = today.replace(day=1)
    months = []
    for _ in range(2):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
        months.append(first)
    field = UsageRecord._meta.get_field("created_at")
    rows = []
    for month_start in months:
        start = timezone.make_aware(datetime.datetime.combine(month_start, datetime.time(9)))
        if UsageRecord.objects.filter(
            created_at__year=month_start.year, created_at__month=month_start.month
        ).exists():
            continue
        for day in range(0, 20, 2):
            for action, detail in (
                (UsageAction.LOGIN, "演示：登录"),
                (UsageAction.SEARCH, "演示：检索“预算执行”"),
            ):
                rows.append(
                    UsageRecord(
                        created_at=start + datetime.timedelta(days=day, minutes=len(rows)),
                        user=user,
                        username=user.get_username(),
                        action=action,
                        ip_address="10.0.0.8",
                        path="/",
                        detail=detail,
                    )
                )
    if not rows:
        return
    # Demo history: the rows carry their own (past) times.
    field.auto_now_add = False
    try:
        UsageRecord.objects.bulk_create(rows)
    finally:
        field.auto_now_add = True


def _demo_closed_alerts():
    """Close demo alerts through the budget module's own transition until three are closed."""
    from supervision import alerts as budget_alerts
    from supervision.choices import AlertStatus
    from supervision.models import Alert

    needed = 3 - Alert.objects.filter(status=AlertStatus.CLOSED).count()
    if needed <= 0:
        return
    staff = get_user_model().objects.filter(username="staff").first()
    if staff is None:
        return
    open_alerts = Alert.objects.exclude(status=AlertStatus.CLOSED)
    try:  # an alert whose letter is still out is not closed by the demo
        from supervision.letters.choices import LetterStatus

        open_alerts = open_alerts.exclude(
            letters__status__in=[
                s
                for s in LetterStatus.values
                if s not in (LetterStatus.CLOSED, LetterStatus.CANCELLED)
            ]
        )
    except ImportError:
        pass
    for alert in open_alerts.order_by("pk")[:needed]:
        budget_alerts.transition(
            alert, AlertStatus.CLOSED, staff, note="演示：已核实情况，关闭预警"
        )


def load_demo(stdout=None):
    from .services import FilingError, build_packages, ensure_default_rules, register_item

    archivist = get_user_model().objects.filter(username="archivist").first()
    if archivist is None:
        return
    try:
        soffice_command()
    except RenditionError as exc:
        _say(stdout, f"立卷归档：警告——{exc}（演示归档已跳过，其余演示数据不受影响。）")
        return
    ensure_default_rules()
    _demo_exports(archivist)
    _demo_usage_months(archivist)
    _demo_closed_alerts()

    started = time.monotonic()
    ids = list(ArchiveItem.objects.exclude(status=ItemStatus.FILED).values_list("pk", flat=True))
    by_source: dict[str, int] = {}
    for candidate in unfiled_candidates(list(DEMO_LIMITS)):
        key = candidate.source.key
        if ArchiveItem.objects.filter(source_key=key).count() >= DEMO_LIMITS[key]:
            continue
        try:
            with transaction.atomic():
                item = register_item(key, candidate.source_id, archivist, enqueue=False)
        except FilingError as exc:
            _say(stdout, f"立卷归档：{candidate.label} 未归档：{exc}")
            continue
        ids.append(item.pk)
        by_source[key] = by_source.get(key, 0) + 1
    failures = build_packages(ids) if ids else {}
    filed = ArchiveItem.objects.filed().count()
    _say(
        stdout,
        f"立卷归档：本次归档 {len(ids) - len(failures)} 件（共 {filed} 件），"
        f"用时 {time.monotonic() - started:.1f} 秒。",
    )
    for pk, message in failures.items():
        _say(stdout, f"立卷归档：第 {pk} 件生成失败：{message}")
