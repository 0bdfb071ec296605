"""Roles (角色) and what each may do: the one table of the permission matrix.

Groups are created by a data migration; their permissions are synchronised from
ROLE_MATRIX after every ``migrate`` so that apps landing later add their rows here
and nowhere else. docs/roles.md prints this table for people.
"""

from django.conf import settings
from django.core.exceptions import ValidationError

ADMIN = "系统管理员"
STAFF = "工作人员"
DEPUTY = "代表/专家"
ARCHIVIST = "档案员"
LIAISON = "部门联络员"
# Every deputy of the county (domain.md §11): writes and follows his or her own suggestions,
# reads the policy library and the working materials sent to deputies. Not a query seat: no
# budget-data querying or export, no seat limit (ROLE_SEAT_LIMITS has no entry for it).
DEPUTY_MEMBER = "人大代表"

ROLES = [ADMIN, STAFF, DEPUTY, ARCHIVIST, LIAISON, DEPUTY_MEMBER]

# Capabilities of the whole system, declared as permissions on cms.User (see models).
CAPABILITIES = [
    ("manage_accounts", "管理账户、角色与凭证"),
    ("view_personal_details", "查看代表个人信息（电话、身份证号、单位、住址）"),
    ("view_usage_log", "查看使用记录"),
    ("edit_settings", "修改系统设置"),
    ("query_data", "查询数据与资料"),
    ("read_library", "阅读政策法规库"),
    ("export_data", "导出数据"),
    ("upload_material", "上传材料"),
    ("publish_material", "编辑和发布材料"),
    ("run_workflows", "办理建议、函件等流程"),
    ("handle_alerts", "处理预警"),
    ("file_records", "立卷归档、管理目录"),
    ("run_backups", "执行和核验备份"),
    ("department_scope", "仅可见本部门交办事项并上传答复"),
]

_cap = {code: f"cms.{code}" for code, _ in CAPABILITIES}
_user_admin = ["cms.add_user", "cms.change_user", "cms.delete_user", "cms.view_user"]
_group_admin = ["auth.add_group", "auth.change_group", "auth.delete_group", "auth.view_group"]
_admin_ui = ["wagtailadmin.access_admin"]

# role → permissions ("app_label.codename"); a codename that does not exist yet
# (its app has not landed) is skipped, and picked up on the next migrate.
_documents = [
    "wagtaildocs.add_document",
    "wagtaildocs.change_document",
    "wagtaildocs.choose_document",
    "wagtailimages.add_image",
    "wagtailimages.change_image",
    "wagtailimages.choose_image",
]
# Staff enter the next year's holiday notice (domain.md §9).
_calendar = [
    f"workdays.{verb}_{model}"
    for model in ("holidaynotice", "dayoverride")
    for verb in ("add", "change", "delete", "view")
]
# Staff keep the policy library's category tree.
_policy_categories = [
    f"policies.{verb}_policycategory" for verb in ("add", "change", "delete", "view")
]
ROLE_MATRIX = {
    ADMIN: [
        *(p for code, p in _cap.items() if code != "department_scope"),
        *_user_admin,
        *_group_admin,
        *_admin_ui,
        *_documents,
        "wagtaildocs.delete_document",
        "wagtailimages.delete_image",
        *_calendar,
        *_policy_categories,
    ],
    STAFF: [
        _cap["query_data"],
        _cap["read_library"],
        _cap["export_data"],
        _cap["upload_material"],
        _cap["publish_material"],
        _cap["run_workflows"],
        _cap["handle_alerts"],
        *_admin_ui,
        *_documents,
        *_calendar,
        *_policy_categories,
    ],
    DEPUTY: [_cap["query_data"], _cap["read_library"], _cap["export_data"]],
    ARCHIVIST: [
        _cap["query_data"],
        _cap["read_library"],
        _cap["export_data"],
        _cap["file_records"],
        _cap["run_backups"],
        _cap["view_usage_log"],
        *_admin_ui,
    ],
    LIAISON: [_cap["department_scope"], _cap["upload_material"]],
    DEPUTY_MEMBER: [_cap["read_library"]],
}

# Each module's own model permissions (mostly its Wagtail admin screens), one dict per
# module, merged into ROLE_MATRIX below. A module edits only its own dict.
SUGGESTIONS_PERMISSIONS: dict[str, list[str]] = {
    # terms, sessions, per-term categories and answer classes, the deputies' register
    role: [
        f"suggestions.{verb}_{model}"
        for model in ("term", "session", "category", "answerclass", "deputy")
        for verb in ("add", "change", "view", *(("delete",) if role == ADMIN else ()))
    ]
    for role in (ADMIN, STAFF)
}
BRIEFINGS_PERMISSIONS: dict[str, list[str]] = {
    ADMIN: [
        f"briefings.{verb}_{model}"
        for model in ("materialtype", "recipientgroup", "scheduleditem", "departmentupload")
        for verb in ("add", "change", "delete", "view")
    ],
    STAFF: [
        *(
            f"briefings.{verb}_{model}"
            for model in ("materialtype", "recipientgroup", "scheduleditem")
            for verb in ("add", "change", "view")
        ),
        "briefings.view_departmentupload",
    ],
}
LETTERS_PERMISSIONS: dict[str, list[str]] = {
    # the approver register (函件审批人): who signs 通报 and letters in which capacity
    ADMIN: [f"letters.{verb}_lettersigner" for verb in ("add", "change", "delete", "view")],
    STAFF: ["letters.view_lettersigner"],
}
# 档案员 and 系统管理员 keep the retention table and class codes; 工作人员 may read the archive.
_archive_admin = [
    f"archive.{verb}_{model}"
    for model in ("retentionrule", "archiveclass")
    for verb in ("add", "change", "delete", "view")
]
ARCHIVE_PERMISSIONS: dict[str, list[str]] = {
    ADMIN: ["archive.view_archiveitem", *_archive_admin],
    ARCHIVIST: ["archive.view_archiveitem", *_archive_admin],
    STAFF: ["archive.view_archiveitem"],
}

for _module in (
    SUGGESTIONS_PERMISSIONS,
    BRIEFINGS_PERMISSIONS,
    LETTERS_PERMISSIONS,
    ARCHIVE_PERMISSIONS,
):
    for _role, _perms in _module.items():
        ROLE_MATRIX[_role] = [
            *ROLE_MATRIX[_role],
            *(p for p in _perms if p not in ROLE_MATRIX[_role]),
        ]


# Wagtail page permissions on the whole tree (GroupPagePermission at the root page).
PAGE_PERMISSIONS = {
    ADMIN: [
        "add_page",
        "change_page",
        "publish_page",
        "bulk_delete_page",
        "lock_page",
        "unlock_page",
    ],
    STAFF: ["add_page", "change_page", "publish_page", "lock_page", "unlock_page"],
}
# Collection permissions for documents and images (GroupCollectionPermission at the root).
COLLECTION_PERMISSIONS = {
    ADMIN: _documents + ["wagtaildocs.delete_document", "wagtailimages.delete_image"],
    STAFF: _documents,
}


class SeatLimitReached(ValidationError):
    pass


def seat_limit(role: str) -> int | None:
    return settings.ROLE_SEAT_LIMITS.get(role)


def seat_holders(role: str):
    """Active accounts holding a seat of *role*; a superuser holds a 系统管理员 seat
    whatever its groups (it can do everything the role can)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    User = get_user_model()
    holds = Q(groups__name=role)
    if role == ADMIN:
        holds |= Q(is_superuser=True)
    return User.objects.filter(holds, is_active=True).distinct()


def seats_taken(role: str, exclude_user_ids=()) -> int:
    return seat_holders(role).exclude(pk__in=[pk for pk in exclude_user_ids if pk]).count()


def holds_seat(role: str, user) -> bool:
    """Whether *user*, as saved now, already occupies a seat of *role*."""
    return bool(user is not None and user.pk and seat_holders(role).filter(pk=user.pk).exists())


def check_seat(role: str, user=None, newcomers: int = 1) -> None:
    """Refuse to give *role* to *user* (or to *newcomers* accounts at once) when the
    seats left are fewer. An account counts once it is active and in the role's group
    (or, for 系统管理员, a superuser); one that is inactive holds no seat, so
    re-activating it is a new claim."""
    limit = seat_limit(role)
    if limit is None or newcomers <= 0:
        return
    if newcomers == 1 and holds_seat(role, user):
        return
    if seats_taken(role) + newcomers > limit:
        raise SeatLimitReached(
            f"角色“{role}”的席位已满（上限 {limit} 个）。请先停用或调整其他账户，或由系统管理员修改席位设置。",
            code="seat_limit",
        )


def roles_claimed_on_save(user) -> list[str]:
    """The roles whose seats saving *user* would newly claim: all its roles when it is
    created or re-activated, and 系统管理员 when it becomes a superuser."""
    if not user.is_active:
        return []
    before = None
    if user.pk:
        before = (
            type(user)
            ._default_manager.filter(pk=user.pk)
            .values("is_active", "is_superuser")
            .first()
        )
    becoming_active = before is None or not before["is_active"]
    claimed = []
    if becoming_active and user.pk:
        claimed += [n for n in user.groups.values_list("name", flat=True) if n in ROLES]
    if user.is_superuser and (becoming_active or not before["is_superuser"]):
        claimed.append(ADMIN)
    return sorted(set(claimed), key=claimed.index)


def check_seats_on_save(user) -> None:
    for role in roles_claimed_on_save(user):
        if not (role == ADMIN and holds_seat(ADMIN, user)):
            check_seat(role, None)


def roles_of(user) -> list[str]:
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = [name for name in user.groups.values_list("name", flat=True) if name in ROLES]
        user._role_names = cached
    return cached


def has_role(user, *roles: str) -> bool:
    if getattr(user, "is_superuser", False) and ADMIN in roles:
        return True
    return any(r in roles_of(user) for r in roles)


def primary_role(user) -> str | None:
    if getattr(user, "is_superuser", False):
        return ADMIN
    names = roles_of(user)
    for role in ROLES:
        if role in names:
            return role
    return None


def sync_after_migrate(app_config, using="default", **kwargs) -> None:
    """post_migrate fires once per app; permissions of every app exist only by the last."""
    from django.apps import apps

    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if app_config is with_models[-1]:
        sync_role_permissions(using=using)


def sync_role_permissions(using="default") -> None:
    """Make every role group hold exactly the permissions of ROLE_MATRIX."""
    from django.contrib.auth.models import Group, Permission

    for role, perms in ROLE_MATRIX.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".", 1)
            perm = (
                Permission.objects.using(using)
                .filter(content_type__app_label=app_label, codename=codename)
                .first()
            )
            if perm:
                wanted.append(perm)
        group.permissions.set(wanted)
    _sync_tree_permissions(using)


def _find_permission(using, dotted):
    from django.contrib.auth.models import Permission

    app_label, codename = dotted.split(".", 1)
    return (
        Permission.objects.using(using)
        .filter(content_type__app_label=app_label, codename=codename)
        .first()
    )


def _sync_tree_permissions(using) -> None:
    from django.contrib.auth.models import Group
    from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page

    root_page = Page.objects.using(using).filter(depth=1).first()
    root_collection = Collection.objects.using(using).filter(depth=1).first()
    for role in ROLES:
        group = Group.objects.using(using).get(name=role)
        if root_page is not None:
            wanted = [
                _find_permission(using, f"wagtailcore.{c}") for c in PAGE_PERMISSIONS.get(role, [])
            ]
            wanted = {p.pk for p in wanted if p}
            GroupPagePermission.objects.using(using).filter(group=group).exclude(
                permission_id__in=wanted
            ).delete()
            for pk in wanted:
                GroupPagePermission.objects.using(using).get_or_create(
                    group=group, page=root_page, permission_id=pk
                )
        if root_collection is not None:
            wanted = [_find_permission(using, d) for d in COLLECTION_PERMISSIONS.get(role, [])]
            wanted = {p.pk for p in wanted if p}
            GroupCollectionPermission.objects.using(using).filter(group=group).exclude(
                permission_id__in=wanted
            ).delete()
            for pk in wanted:
                GroupCollectionPermission.objects.using(using).get_or_create(
                    group=group, collection=root_collection, permission_id=pk
                )
