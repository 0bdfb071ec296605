"""Celery tasks of the monthly backup (see archive/backup.py).

The beat entry "archive-monthly-backup" (cms/settings/base.py, archive block) runs
``monthly_backup`` on the 1st of each month; the backup page queues ``backup_on_request``.
A failed run is kept in history.jsonl and reported to everyone holding cms.run_backups.
"""

import logging

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db.models import Q

from cms.notifications.services import notify

from . import backup

log = logging.getLogger(__name__)

BACKUP_PAGE = "/archive/backups/"


def backup_operators():
    """Active users who may run and check backups (cms.run_backups)."""
    perm = Q(
        groups__permissions__codename="run_backups",
        groups__permissions__content_type__app_label="cms",
    ) | Q(
        user_permissions__codename="run_backups",
        user_permissions__content_type__app_label="cms",
    )
    User = get_user_model()
    return User.objects.filter(perm | Q(is_superuser=True), is_active=True).distinct()


def _report_failure(exc, trigger_label, extra_recipients=()):
    recipients = list(backup_operators()) + [u for u in extra_recipients if u]
    notify(
        recipients,
        f"{trigger_label}失败" if not trigger_label.endswith("核验") else f"{trigger_label}未通过",
        body=f"{exc}\n\n上一次完好的备份仍然保留；请检查磁盘空间和日志后在备份页面重新执行“立即备份”。",
        url=BACKUP_PAGE,
        category="archive",
    )


@shared_task(name="archive.backup_tasks.monthly_backup")
def monthly_backup():
    """The scheduled monthly backup; failures are notified, then raised for the worker log."""
    try:
        result = backup.run_backup(trigger="scheduled")
    except Exception as exc:
        log.exception("monthly backup failed")
        _report_failure(exc, "每月定期备份")
        raise
    return result.summary


@shared_task(name="archive.backup_tasks.backup_on_request")
def backup_on_request(user_id=None):
    """A backup started from the backup page; the requester hears how it went."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        result = backup.run_backup(trigger="manual", user=user)
    except Exception as exc:
        log.exception("backup on request failed")
        _report_failure(exc, "手动备份", [user])
        return {"ok": False, "error": str(exc)}
    if user is not None:
        s = result.summary
        notify(
            [user],
            f"备份 {s['name']} 已完成并通过核验",
            body=f"{s['files']} 个文件，{s['size']}，用时 {s['seconds']} 秒。",
            url=BACKUP_PAGE,
            category="archive",
            email=False,
        )
    return {"ok": True, **result.summary}


@shared_task(name="archive.backup_tasks.verify_backups")
def verify_backups():
    """The scheduled full verification: every backup decrypted and re-hashed; the result
    is kept for the backups page and a failure is reported to the backup operators."""
    outcomes = []
    for info in backup.list_backups():
        if info.status == "interrupted":
            continue
        check = backup.verify_backup(info.path)
        backup.record_verification(info.name, check, "scheduled")
        outcomes.append({"name": info.name, "ok": check.ok})
        if not check.ok:
            _report_failure(
                "；".join(check.problems[:5]), f"备份 {info.name} 的定期核验", extra_recipients=()
            )
    return outcomes
