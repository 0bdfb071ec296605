"""Accounts for every deputy of the register (人大代表 role, domain.md §11).

Bulk creation from the register (all active deputies without an account, or the ones named
in an XLSX with the columns 姓名 and 代表团): each gets a user in the 人大代表 group, a random
initial password the office hands out, and must change it at first login. A second factor
follows ``OTP_REQUIRED_ROLES`` like every other role. The 人大代表 role has no seat limit and is
not one of the six 代表/专家 query seats.
"""

import secrets
import string
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction

from cms import roles

from .models import Deputy

MANAGE_PERMISSION = "cms.manage_accounts"
# no 0/O, 1/l/I: the password is read off a printed sheet
ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")


@dataclass
class NewAccount:
    deputy: Deputy
    username: str
    password: str


def initial_password(length: int = 12) -> str:
    while True:
        text = "".join(secrets.choice(ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in text) and any(c.isalpha() for c in text):
            return text


def username_for(deputy: Deputy) -> str:
    """``db`` + the register number; unique because the register row is."""
    return f"db{deputy.pk:04d}"


def deputies_from_rows(header, body) -> tuple[list[Deputy], list[str]]:
    """The deputies an XLSX names (姓名 + optional 代表团), with row-level Chinese errors."""
    if "姓名" not in header:
        return [], ["表头缺少“姓名”列"]
    i_name = header.index("姓名")
    i_delegation = header.index("代表团") if "代表团" in header else None
    found, errors = [], []
    for line, values in body:
        name = str(values[i_name] or "").strip() if i_name < len(values) else ""
        delegation = ""
        if i_delegation is not None and i_delegation < len(values):
            delegation = str(values[i_delegation] or "").strip()
        if not name:
            errors.append(f"第 {line} 行：姓名为空")
            continue
        qs = Deputy.objects.filter(name=name, is_active=True)
        if delegation:
            qs = qs.filter(delegation=delegation)
        matches = list(qs[:2])
        if not matches:
            where = f"（{delegation}）" if delegation else ""
            errors.append(f"第 {line} 行：名册中没有在任代表“{name}”{where}")
        elif len(matches) > 1:
            errors.append(f"第 {line} 行：代表“{name}”有重名，请填写“代表团”列")
        elif matches[0] not in found:
            found.append(matches[0])
    return found, errors


def create_accounts(actor, deputies=None) -> list[NewAccount]:
    """Open accounts for *deputies* (default: every active deputy without one).

    *actor* must hold ``cms.manage_accounts`` (None = the command line). Deputies who have an
    account already are skipped; all or nothing."""
    if actor is not None and not actor.has_perm(MANAGE_PERMISSION):
        raise PermissionDenied("只有系统管理员可以开通代表账号")
    if deputies is None:
        deputies = Deputy.objects.filter(is_active=True, user__isnull=True).order_by("pk")
    User = get_user_model()  # noqa: N806
    group = Group.objects.get(name=roles.DEPUTY_MEMBER)
    made = []
    with transaction.atomic():
        for deputy in deputies:
            deputy = Deputy.objects.select_for_update().get(pk=deputy.pk)
            if deputy.user_id or not deputy.is_active:
                continue
            username = username_for(deputy)
            if User.objects.filter(username=username).exists():
                username = f"{username}-{secrets.token_hex(2)}"
            password = initial_password()
            user = User.objects.create_user(
                username=username, password=password, display_name=deputy.name
            )
            roles.check_seat(roles.DEPUTY_MEMBER, user)  # unlimited unless configured
            user.groups.add(group)
            deputy.user = user
            deputy.must_change_password = True
            deputy.save(update_fields=["user", "must_change_password"])
            made.append(NewAccount(deputy, username, password))
    return made


def accounts_sheet(accounts: list[NewAccount]):
    """The initial-password sheet (XLSX) for the office to hand out; no personal details."""
    from cms.usage.exports import xlsx_export

    rows = [[a.deputy.name, a.deputy.delegation, a.username, a.password] for a in accounts]
    return xlsx_export(
        "代表账号初始密码", ["姓名", "代表团", "用户名", "初始密码（首次登录须修改）"], rows
    )
