import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import override_settings

from cms import roles

pytestmark = pytest.mark.django_db


def test_role_groups_exist_with_matrix_permissions():
    names = set(Group.objects.values_list("name", flat=True))
    assert set(roles.ROLES) <= names
    admin = Group.objects.get(name=roles.ADMIN)
    deputy = Group.objects.get(name=roles.DEPUTY)
    admin_perms = {p.codename for p in admin.permissions.all()}
    deputy_perms = {p.codename for p in deputy.permissions.all()}
    assert "view_personal_details" in admin_perms
    assert "view_personal_details" not in deputy_perms
    assert deputy_perms == {"query_data", "read_library", "export_data"}
    member = Group.objects.get(name=roles.DEPUTY_MEMBER)
    # every deputy's own account reads the library, never queries or exports budget data
    assert {p.codename for p in member.permissions.all()} == {"read_library"}


def test_only_admin_sees_personal_details(admin_user_role, staff_user, deputy_user):
    assert admin_user_role.has_perm("cms.view_personal_details")
    assert not staff_user.has_perm("cms.view_personal_details")
    assert not deputy_user.has_perm("cms.view_personal_details")


@override_settings(ROLE_SEAT_LIMITS={roles.STAFF: 2})
def test_seat_limit_refuses_extra_user(make_user):
    make_user(roles.STAFF)
    make_user(roles.STAFF)
    third = make_user()
    with pytest.raises(roles.SeatLimitReached) as exc, transaction.atomic():
        third.groups.add(Group.objects.get(name=roles.STAFF))
    assert "席位已满" in exc.value.messages[0]
    assert not third.groups.filter(name=roles.STAFF).exists()


@override_settings(ROLE_SEAT_LIMITS={roles.STAFF: 1})
def test_inactive_users_do_not_hold_seats(make_user):
    first = make_user(roles.STAFF)
    first.is_active = False
    first.save()
    make_user(roles.STAFF)  # the seat freed by the inactive account is taken


def test_primary_role(staff_user, make_user):
    assert roles.primary_role(staff_user) == roles.STAFF
    assert roles.primary_role(make_user()) is None
