"""Demo data: one account per role, then every app's own demo loader.

Apps add their data with the Wagtail hook ``register_demo_loader``: a function
taking ``stdout`` that must be idempotent (running load_demo twice changes nothing).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
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
]


@transaction.atomic
def create_demo_accounts():
    User = get_user_model()
    created = []
    for username, name, org, role, password in DEMO_ACCOUNTS:
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


def load_demo(stdout=None):
    created = create_demo_accounts()
    for loader in hooks.get_hooks("register_demo_loader"):
        loader(stdout)
    return created


def demo_logins_text():
    lines = ["演示账号（用户名 / 密码 / 角色）:"]
    for username, _name, _org, role, password in DEMO_ACCOUNTS:
        lines.append(f"  {username:<10} {password:<15} {role}")
    return "\n".join(lines)
