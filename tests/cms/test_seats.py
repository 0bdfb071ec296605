"""Seats hold on every path that can give a role (issue 14, found item 3): group
membership from either side, re-activation, the superuser flag, the admin's user
forms, bulk adds; superusers count as 系统管理员."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from cms import roles

pytestmark = pytest.mark.django_db


def staff_group():
    return Group.objects.get(name=roles.STAFF)


@override_settings(ROLE_SEAT_LIMITS={roles.STAFF: 2})
def test_reactivating_an_account_in_a_full_role_is_refused(make_user):
    """Found: re-activating an inactive account already in a role skipped the check
    (staff reached 8 of 6)."""
    dormant = make_user(roles.STAFF)
    dormant.is_active = False
    dormant.save()
    make_user(roles.STAFF)
    make_user(roles.STAFF)
    dormant.is_active = True
    with pytest.raises(roles.SeatLimitReached), transaction.atomic():
        dormant.save()
    assert roles.seats_taken(roles.STAFF) == 2
    assert not get_user_model().objects.get(pk=dormant.pk).is_active


@override_settings(ROLE_SEAT_LIMITS={roles.STAFF: 2})
def test_adding_several_accounts_from_the_group_side_counts_them_all(make_user):
    make_user(roles.STAFF)
    a, b = make_user(), make_user()
    with pytest.raises(roles.SeatLimitReached), transaction.atomic():
        staff_group().user_set.add(a, b)
    assert roles.seats_taken(roles.STAFF) == 1
    staff_group().user_set.add(a)  # one seat was left
    assert roles.seats_taken(roles.STAFF) == 2


def test_a_superuser_holds_the_administrator_seat(make_user):
    make_user(roles.ADMIN, username="admin1")
    User = get_user_model()
    with pytest.raises(roles.SeatLimitReached), transaction.atomic():
        User.objects.create_superuser("root2", "root2@rd.local", "pw-Test-2026-x")
    plain = make_user()
    plain.is_superuser = True
    with pytest.raises(roles.SeatLimitReached), transaction.atomic():
        plain.save()
    assert roles.seats_taken(roles.ADMIN) == 1


def test_a_superuser_and_its_admin_group_are_one_seat(make_user):
    admin = make_user(roles.ADMIN, username="admin1", is_superuser=True)
    assert roles.seats_taken(roles.ADMIN) == 1
    admin.save()  # saving again claims nothing new
    assert roles.primary_role(admin) == roles.ADMIN


@pytest.fixture
def admin_client(client, make_user):
    admin = make_user(roles.ADMIN, username="admin1", is_superuser=True)
    client.force_login(admin)
    return client


def user_form_data(user=None, **overrides):
    data = {
        "username": user.username if user else "newone",
        "email": "x@rd.local",
        "first_name": "",
        "last_name": "",
        "display_name": "新人",
        "organisation": "",
        "phone": "",
        "is_active": "on",
        "password1": "Long-Enough-Pw-2026",
        "password2": "Long-Enough-Pw-2026",
    }
    data.update(overrides)
    return data


def test_admin_form_cannot_make_a_second_superuser(admin_client):
    """Found: the admin user form created superusers outside the one-administrator limit."""
    response = admin_client.post(
        reverse("wagtailusers_users:add"), user_form_data(is_superuser="on")
    )
    assert response.status_code == 200
    assert "席位已满" in response.content.decode()
    assert not get_user_model().objects.filter(username="newone").exists()


@override_settings(ROLE_SEAT_LIMITS={roles.STAFF: 1, roles.ADMIN: 1})
def test_admin_form_refuses_reactivation_into_a_full_role(admin_client, make_user):
    dormant = make_user(roles.STAFF, username="dormant")
    dormant.is_active = False
    dormant.save()
    make_user(roles.STAFF)
    data = user_form_data(dormant, groups=[staff_group().pk])
    data.pop("password1"), data.pop("password2")
    response = admin_client.post(reverse("wagtailusers_users:edit", args=[dormant.pk]), data)
    assert response.status_code == 200
    assert "席位已满" in response.content.decode()
    dormant.refresh_from_db()
    assert not dormant.is_active


def test_saving_a_demo_account_without_given_and_family_names(admin_client, make_user):
    """Found: saving an existing demo user in the admin failed on empty 名/姓."""
    deputy = make_user(roles.DEPUTY, username="deputy", display_name="张建国")
    data = user_form_data(deputy, groups=[Group.objects.get(name=roles.DEPUTY).pk])
    data.pop("password1"), data.pop("password2")
    data["organisation"] = "城关镇代表团"
    response = admin_client.post(reverse("wagtailusers_users:edit", args=[deputy.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    deputy.refresh_from_db()
    assert deputy.organisation == "城关镇代表团"
