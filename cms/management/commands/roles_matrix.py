from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand

from cms.roles import PAGE_PERMISSIONS, ROLE_MATRIX, ROLES, seat_limit

_VERBS = {"add": "新增", "change": "修改", "delete": "删除", "view": "查看", "choose": "选用"}


def _label(perm, codename: str) -> str:
    """Django names its default permissions in English; say them in Chinese."""
    if perm is None:
        return codename
    verb, _, _model = codename.partition("_")
    if verb in _VERBS and perm.name.startswith("Can "):
        return _VERBS[verb] + str(perm.content_type.model_class()._meta.verbose_name)
    if codename == "access_admin":
        return "进入管理后台"
    return perm.name


def matrix_markdown() -> str:
    """The permission matrix as a Markdown table (docs/roles.md embeds it)."""
    perms = []
    for role in ROLES:
        for dotted in ROLE_MATRIX[role]:
            if dotted not in perms:
                perms.append(dotted)
    names = {}
    for dotted in perms:
        app_label, codename = dotted.split(".", 1)
        perm = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        names[dotted] = _label(perm, codename)
    head = "| 权限 | 代码 | " + " | ".join(ROLES) + " |"
    rule = "|---|---|" + "---|" * len(ROLES)
    rows = [head, rule]
    for dotted in perms:
        marks = " | ".join("✓" if dotted in ROLE_MATRIX[r] else "" for r in ROLES)
        rows.append(f"| {names[dotted]} | `{dotted}` | {marks} |")
    seats = " | ".join(str(seat_limit(r) if seat_limit(r) is not None else "不限") for r in ROLES)
    rows.append(f"| **席位上限（默认）** | `ROLE_SEAT_LIMITS` | {seats} |")
    rows.append("")
    rows.append("页面权限（整个页面树）：")
    for role, codes in PAGE_PERMISSIONS.items():
        rows.append(f"- {role}：{'、'.join(codes)}")
    return "\n".join(rows)


class Command(BaseCommand):
    help = "打印角色权限矩阵（Markdown）。"

    def handle(self, *args, **options):
        self.stdout.write(matrix_markdown())
