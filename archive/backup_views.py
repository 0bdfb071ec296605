"""备份 page: the backups with their status, and a button that starts one (cms.run_backups)."""

from celery.result import EagerResult
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from . import backup
from .backup_tasks import backup_on_request

RUN_BACKUPS = "cms.run_backups"


@require_http_methods(["GET", "POST"])
@permission_required(RUN_BACKUPS, raise_exception=True)
def backup_list(request):
    if request.method == "POST":
        result = backup_on_request.delay(request.user.pk)
        # with a worker the task runs later (and there is no result backend to ask);
        # run eagerly (tests, CELERY_TASK_ALWAYS_EAGER) its outcome is known at once
        outcome = result.result if isinstance(result, EagerResult) else None
        if isinstance(outcome, dict) and outcome.get("ok"):
            messages.success(request, f"备份 {outcome['name']} 已完成并通过核验。")
        elif isinstance(outcome, dict):
            messages.error(request, outcome.get("error") or "备份失败。")
        else:
            messages.info(request, "备份已开始，完成后会在站内消息中通知您。")
        return redirect("archive_backup:list")
    history = backup.read_history(limit=20)
    for entry in history:
        entry["started"] = backup._parse_time(entry.get("started_at"))
        entry["error"] = without_paths(entry.get("error") or "")
    backups = backup.list_backups()
    for info in backups:
        info.problems = [without_paths(p) for p in info.problems]
    context = {
        "section": "backups",
        "backups": backups,
        "history": history,
        "keep": backup.keep_count(),
        "algorithms": " / ".join(a.upper() for a in backup.hash_algorithms()),
    }
    return render(request, "archive/backup/list.html", context)


def without_paths(text: str) -> str:
    """A message for the page: the server's folders named in words, not as paths."""
    places = [
        (str(backup.backup_root()), "备份目录"),
        (str(getattr(settings, "ARCHIVE_ROOT", "")), "档案存储区"),
        (str(getattr(settings, "MEDIA_ROOT", "")), "媒体文件目录"),
        (str(getattr(settings, "DATA_DIR", "")), "数据目录"),
    ]
    for folder, words in sorted(places, key=lambda p: -len(p[0])):
        if folder and folder not in (".", "/"):
            text = text.replace(folder, words)
    return text


app_name = "archive_backup"
urlpatterns = [path("", backup_list, name="list")]
