"""Fixity (完整性核验): re-hash every stored file of every item and keep the report."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .models import FILE_PERMISSION, ArchiveFile, FixityReport
from .services import file_digests, file_path


def archivists():
    User = get_user_model()
    perm_app, perm_code = FILE_PERMISSION.split(".")
    granted = Q(groups__permissions__codename=perm_code) & Q(
        groups__permissions__content_type__app_label=perm_app
    )
    return User.objects.filter(is_active=True).filter(granted | Q(is_superuser=True)).distinct()


def verify_all(trigger: str = "定时核验", notify_on_problem: bool = True) -> FixityReport:
    started = timezone.now()
    missing, altered = [], []
    checked = 0
    for stored in ArchiveFile.objects.select_related("item").order_by("pk").iterator():
        checked += 1
        path = file_path(stored)
        entry = {
            "item_id": stored.item_id,
            "item_number": stored.item.item_number,
            "file": stored.relative_path,
        }
        if not path.is_file():
            missing.append(entry)
            continue
        sha, sm3 = file_digests(path)
        if sha != stored.sha256 or (stored.sm3 and sm3 and sm3 != stored.sm3):
            altered.append({**entry, "expected_sha256": stored.sha256, "found_sha256": sha})
    report = FixityReport.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        trigger=trigger,
        files_checked=checked,
        missing=missing,
        altered=altered,
    )
    if notify_on_problem and not report.ok:
        from cms.notifications.services import notify

        lines = [f"缺失：{e['item_number']} {e['name']}" for e in report.missing_shown] + [
            f"被改动：{e['item_number']} {e['name']}" for e in report.altered_shown
        ]
        notify(
            list(archivists()),
            f"归档文件完整性核验发现问题：缺失 {len(missing)} 个，被改动 {len(altered)} 个",
            body="\n".join(lines[:200]),
            url=reverse("archive:fixity_report", args=[report.pk]),
            category="archive",
        )
    return report
