"""Which 预算单位 a user acts for.

A 部门联络员 (``cms.department_scope``) is linked to one or more units through
``Department.liaisons``; the link covers the unit's 二级单位 too. Every module that
scopes items to a department (suggestions, letters, pushed materials, alerts) asks here.
"""

from django.db.models import QuerySet

from .models import Department

SCOPE_PERMISSION = "cms.department_scope"


def is_department_scoped(user) -> bool:
    """True for a liaison: an account that sees only its own department's items.
    Staff-side permissions win, so a superuser is never scoped."""
    if not getattr(user, "is_authenticated", False) or user.is_superuser:
        return False
    return user.has_perm(SCOPE_PERMISSION)


def department_ids_for(user) -> list[int]:
    """Ids of the units a liaison acts for, including their descendants."""
    if not getattr(user, "is_authenticated", False):
        return []
    ids: list[int] = []
    for department in Department.objects.filter(liaisons=user, is_active=True):
        ids.extend(department.descendant_ids())
    return sorted(set(ids))


def departments_for(user) -> QuerySet[Department]:
    return Department.objects.filter(pk__in=department_ids_for(user))


def acts_for(user, department) -> bool:
    """May this liaison act on an item assigned to *department*?"""
    return department is not None and department.pk in department_ids_for(user)
