"""权限变更: every change of who holds which role or permission becomes a usage record.

Covered: users joining or leaving groups (from either side of the relation), a user's own
permissions, a group's permissions, and a user's is_active / is_superuser flips. The actor is
the user of the current request (cms.usage.middleware) or "系统". Only real changes are
written: Django reports removals of links that never existed, and sync_role_permissions()
re-sets every role's permissions after each migrate, so removals are checked against the
table first and an operation that changes nothing writes nothing. One operation (one
``add``/``remove``/``set``/``clear`` call) writes one row.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.models.signals import m2m_changed, post_save, pre_save

from .middleware import current_request
from .models import UsageAction, UsageRecord
from .services import acting_user_and_name, record_usage

_PENDING = "_usage_pending_m2m_removal"
_FLAG_CHANGES = "_usage_flag_changes"


@dataclass(frozen=True)
class Relation:
    """One many-to-many relation whose changes are recorded."""

    through: type
    forward_accessor: str  # manager on the owning side (user.groups)
    reverse_accessor: str  # manager on the other side (group.user_set)
    added: str  # sentence templates, {owner} and {targets} filled in
    removed: str


def _users(objs):
    return "、".join(str(u) for u in objs)


def _groups(objs):
    return "、".join(g.name for g in objs)


def _permissions(objs):
    return "、".join(f"{p.name}（{p.content_type.app_label}.{p.codename}）" for p in objs)


def _label(obj):
    if isinstance(obj, Group):
        return _groups([obj])
    if isinstance(obj, Permission):
        return _permissions([obj])
    return _users([obj])


def _labels(model, objs):
    if model is Group:
        return _groups(objs)
    if model is Permission:
        return _permissions(objs)
    return _users(objs)


def _relations():
    User = get_user_model()
    return [
        Relation(
            User.groups.through,
            "groups",
            "user_set",
            added="将 {users} 加入角色 {groups}",
            removed="将 {users} 移出角色 {groups}",
        ),
        Relation(
            User.user_permissions.through,
            "user_permissions",
            "user_set",
            added="授予 {users} 权限：{permissions}",
            removed="撤销 {users} 的权限：{permissions}",
        ),
        Relation(
            Group.permissions.through,
            "permissions",
            "group_set",
            added="为角色 {groups} 增加权限：{permissions}",
            removed="从角色 {groups} 移除权限：{permissions}",
        ),
    ]


def _slot(model):
    if model is Group:
        return "groups"
    if model is Permission:
        return "permissions"
    return "users"


_usage_table_ready = False


def _usage_table_exists():
    """False while migrating a database whose usage table is not created yet."""
    global _usage_table_ready
    if not _usage_table_ready:
        _usage_table_ready = UsageRecord._meta.db_table in connection.introspection.table_names()
    return _usage_table_ready


def _write(instance, detail):
    user, name = acting_user_and_name()
    request = current_request()
    if request is None and not _usage_table_exists():
        return
    record_usage(
        request,
        UsageAction.PERMISSION_CHANGE,
        obj=instance,
        detail=detail,
        user=user,
        username=name,
    )


def _make_handler(relation: Relation):
    def handler(sender, instance, action, reverse, model, pk_set, **kwargs):
        accessor = relation.reverse_accessor if reverse else relation.forward_accessor
        manager = getattr(instance, accessor)
        if action == "pre_remove":
            present = set(manager.filter(pk__in=pk_set or ()).values_list("pk", flat=True))
            instance.__dict__.setdefault(_PENDING, {})[sender] = present
            return
        if action == "pre_clear":
            present = set(manager.values_list("pk", flat=True))
            instance.__dict__.setdefault(_PENDING, {})[sender] = present
            return
        if action == "post_add":
            changed, template = set(pk_set or ()), relation.added
        elif action in ("post_remove", "post_clear"):
            changed = instance.__dict__.get(_PENDING, {}).pop(sender, set())
            template = relation.removed
        else:
            return
        if not changed:
            return
        queryset = model._default_manager.filter(pk__in=changed)
        if model is Permission:
            queryset = queryset.select_related("content_type")
        others = list(queryset.order_by("pk"))
        if not others:
            return
        words = {
            _slot(type(instance)): _label(instance),
            _slot(model): _labels(model, others),
        }
        _write(instance, template.format(**words))

    return handler


def _remember_flags(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or instance._state.adding or instance.pk is None:
        return
    watched = {"is_active", "is_superuser"}
    if update_fields is not None and not watched.intersection(update_fields):
        return
    before = sender._default_manager.filter(pk=instance.pk).values(*watched).first()
    if before is None:
        return
    instance.__dict__[_FLAG_CHANGES] = [
        field for field in sorted(watched) if before[field] != getattr(instance, field)
    ]


def _record_flags(sender, instance, created=False, raw=False, **kwargs):
    changes = instance.__dict__.pop(_FLAG_CHANGES, None)
    if raw or created or not changes:
        return
    sentences = []
    for field in changes:
        if field == "is_active":
            sentences.append(f"{'启用' if instance.is_active else '停用'}账户 {instance}")
        else:
            if instance.is_superuser:
                sentences.append(f"授予 {instance} 超级用户身份（拥有全部权限）")
            else:
                sentences.append(f"取消 {instance} 的超级用户身份")
    _write(instance, "；".join(sentences))


def connect():
    for relation in _relations():
        m2m_changed.connect(
            _make_handler(relation),
            sender=relation.through,
            weak=False,
            dispatch_uid=f"usage_permission_change_{relation.through._meta.label}",
        )
    User = get_user_model()
    pre_save.connect(_remember_flags, sender=User, dispatch_uid="usage_user_flags_before")
    post_save.connect(_record_flags, sender=User, dispatch_uid="usage_user_flags_after")
