"""Demo data: one account per role, then every app's own demo loader.

Apps add their data with the Wagtail hook ``register_demo_loader``: a function
taking ``stdout`` that must be idempotent (running load_demo twice changes nothing).

``load_demo(background=True)`` (``load_demo --background``, what ``make run`` uses) loads
only what the site needs to answer and leaves the slow rest to the Celery worker once the
site is up, in the order of ``BACKGROUND_STEPS``: the suggestions demo, the search index in
one pass (not one commit per saved object), then the demo archive. Until each step is done the
home page lists it (``pending_steps``).
"""

import json
import os
from contextlib import contextmanager, nullcontext

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.test.utils import override_settings
from wagtail import hooks

from . import roles

# username, display name, organisation, role, password
DEMO_ACCOUNTS = [
    ("admin", "李明（系统管理员）", "县人大常委会预算工委", roles.ADMIN, "Admin-2026!"),
    ("staff", "王芳", "县人大常委会预算工委", roles.STAFF, "Staff-2026!"),
    # the office head (负责同志) who signs off briefings and letters
    ("head", "刘强（预算工委负责同志）", "县人大常委会预算工委", roles.STAFF, "Head-2026!"),
    ("deputy", "张建国", "县人大代表（城关镇代表团）", roles.DEPUTY, "Deputy-2026!"),
    ("archivist", "赵敏", "县人大常委会办公室", roles.ARCHIVIST, "Archive-2026!"),
    ("liaison", "陈刚", "县财政局", roles.LIAISON, "Liaison-2026!"),
    # two deputies' own accounts (every deputy, not a query seat): the suggestions demo links
    # them to the register and gives them online drafts, a 联名 invitation, a returned
    # suggestion and one turned into a letter; the briefings demo their subscriptions
    ("member1", "杨丽华", "县人大代表（甘庄街道代表团）", roles.DEPUTY_MEMBER, "Member1-2026!"),
    ("member2", "普文忠", "县人大代表（因远镇代表团）", roles.DEPUTY_MEMBER, "Member2-2026!"),
]


@transaction.atomic
def create_demo_accounts(usernames=None):
    """Create the demo accounts that do not exist yet (all, or only *usernames*)."""
    User = get_user_model()
    created = []
    for username, name, org, role, password in DEMO_ACCOUNTS:
        if usernames is not None and username not in usernames:
            continue
        user, new = User.objects.get_or_create(
            username=username,
            defaults={"display_name": name, "organisation": org, "email": f"{username}@rd.local"},
        )
        if new:
            user.set_password(password)
            user.is_superuser = role == roles.ADMIN
            user.save()
            user.groups.add(Group.objects.get(name=role))
            created.append(username)
    return created


# Steps that can wait until the site is up, in the order the worker runs them: name → what the
# home page says is still being prepared. A loader is named "module.function".
# Loaders before INDEX_STEP run with the per-object index writes paused (the index step then
# indexes what they made); those after it index their few objects as they save them.
INDEX_STEP = "search-index"
BACKGROUND_STEPS = {
    # ~150 suggestions played through their whole workflow: the largest loader (74 s CPU measured)
    "suggestions.wagtail_hooks.load_suggestions_demo": "代表建议演示数据（第十八届，约 150 件）",
    INDEX_STEP: "检索索引（建立完成前检索结果不全）",
    # renditions with LibreOffice, archival stamps and digests; files suggestions too, so last
    "archive.wagtail_hooks.load_archive_demo": "演示归档文件（PDF 版本、归档章与摘要）",
}
BACKGROUND_LOADERS = [name for name in BACKGROUND_STEPS if name != INDEX_STEP]
PENDING_DIR = "demo-pending"


def _loader_name(loader) -> str:
    return f"{loader.__module__}.{loader.__name__}"


def _pending_dir():
    return settings.DATA_DIR / PENDING_DIR


def mark_pending(step: str) -> None:
    """Record that *step* waits for the worker (one file per step: no read-modify-write)."""
    directory = _pending_dir()
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{step}.tmp"
    tmp.write_text(json.dumps({"step": step}), "utf-8")
    os.replace(tmp, directory / f"{step}.json")


def mark_done(step: str) -> None:
    (_pending_dir() / f"{step}.json").unlink(missing_ok=True)


def pending_steps() -> list[str]:
    """What the home page lists as still being prepared (Chinese), in the worker's order."""
    directory = _pending_dir()
    if not directory.is_dir():
        return []
    waiting = {path.stem for path in directory.glob("*.json")}
    return [label for step, label in BACKGROUND_STEPS.items() if step in waiting]


@contextmanager
def index_paused():
    """Saves do not write the search index one object at a time (a full rebuild follows)."""
    backends = {
        name: {**params, "AUTO_UPDATE": False}
        for name, params in getattr(settings, "WAGTAILSEARCH_BACKENDS", {}).items()
    }
    with override_settings(WAGTAILSEARCH_BACKENDS=backends):
        yield


def run_background_step(step: str, stdout=None) -> None:
    """One deferred step, as the worker runs it (cms.tasks.finish_demo)."""
    from io import StringIO

    from django.core.management import call_command

    steps = list(BACKGROUND_STEPS)
    before_index = step in steps and steps.index(step) < steps.index(INDEX_STEP)
    try:
        if step == INDEX_STEP:
            call_command("update_index", stdout=stdout or StringIO())
            return
        with index_paused() if before_index else nullcontext():
            for loader in hooks.get_hooks("register_demo_loader"):
                if _loader_name(loader) == step:
                    loader(stdout)
    finally:
        mark_done(step)


def load_demo(stdout=None, background=False):
    """Load the demo data. With *background*, queue the slow steps for the Celery worker
    (and say so on the home page) instead of running them here."""
    created = create_demo_accounts()
    if not background:
        for loader in hooks.get_hooks("register_demo_loader"):
            loader(stdout)
        return created
    with index_paused():
        for loader in hooks.get_hooks("register_demo_loader"):
            if _loader_name(loader) not in BACKGROUND_LOADERS:
                loader(stdout)
    steps = list(BACKGROUND_STEPS)
    for step in steps:
        mark_pending(step)
    from .tasks import finish_demo

    finish_demo.delay(steps)
    return created


def demo_logins_text():
    lines = ["演示账号（用户名 / 密码 / 角色）:"]
    for username, _name, _org, role, password in DEMO_ACCOUNTS:
        lines.append(f"  {username:<10} {password:<15} {role}")
    return "\n".join(lines)
