"""The login throttle: per account and per real client address, counted under a lock,
growing delays, made-up usernames never touching real accounts, every lock and
unlock in the usage log (issue 14, found items 1 and 2)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from cms.credentials import throttle
from cms.credentials.models import LoginThrottle
from cms.usage.models import UsageAction, UsageRecord

from .conftest import password_step, totp_token


def fail(client, user, times, **extra):
    for _ in range(times):
        response = password_step(client, user, password="wrong-password", **extra)
        assert "用户名或密码错误。" in response.content.decode()


def age_rows(seconds):
    """Move every wait and failure *seconds* into the past (time passing)."""
    for row in LoginThrottle.objects.all():
        if row.delayed_until:
            row.delayed_until -= timedelta(seconds=seconds)
        if row.last_failure_at:
            row.last_failure_at -= timedelta(seconds=seconds)
        row.save()


def test_right_password_is_refused_while_delayed(client, staff_user):
    fail(client, staff_user, 5)
    response = password_step(client, staff_user)
    assert "登录失败次数过多，请 1 分钟后再试。" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert UsageRecord.objects.filter(action=UsageAction.DENIED, username="staffer").exists()
    # the refused attempt is not itself a failure that would prolong the wait
    assert UsageRecord.objects.filter(action=UsageAction.LOGIN_FAILED).count() == 5
    locks = UsageRecord.objects.filter(action=UsageAction.LOGIN_LOCKED)
    assert {r.detail for r in locks} == {
        "登录限制：账户“staffer”连续失败 5 次，须等待 1 分钟",
        "登录限制：地址 127.0.0.1连续失败 5 次，须等待 1 分钟",
    }


def test_four_failures_still_let_the_right_password_in(client, staff_user):
    fail(client, staff_user, 4)
    response = password_step(client, staff_user)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff_user.pk)


def test_the_delay_grows_and_ends_with_a_recorded_unlock(client, staff_user):
    fail(client, staff_user, 5)
    waits = []
    for _ in range(4):
        age_rows(16 * 60)  # every wait so far has run out
        fail(client, staff_user, 1)
        waits.append(throttle.check("staffer").minutes_left)
    assert waits == [2, 4, 8, 15]  # doubled each time, capped at the window
    age_rows(16 * 60)
    response = password_step(client, staff_user)
    assert response.status_code == 302
    unlocks = UsageRecord.objects.filter(action=UsageAction.LOGIN_UNLOCKED)
    assert unlocks.filter(detail="登录限制解除：账户“staffer”（等待期已满）").exists()
    assert unlocks.filter(detail="登录限制解除：地址 127.0.0.1（等待期已满）").exists()
    # success clears the account's count: the next failure does not wait
    client.logout()
    fail(client, staff_user, 1)
    assert LoginThrottle.objects.get(key=f"account:{staff_user.pk}").failures == 1


def test_another_user_from_another_address_is_not_throttled(client, staff_user, deputy_user):
    fail(client, staff_user, 5, REMOTE_ADDR="10.0.0.1")
    response = password_step(client, deputy_user, REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(deputy_user.pk)


def test_one_address_trying_many_usernames_is_throttled(client, staff_user, deputy_user):
    for n in range(5):
        client.post(
            reverse("login"), {"username": f"guess{n}", "password": "x"}, REMOTE_ADDR="10.0.0.9"
        )
    response = password_step(client, deputy_user, REMOTE_ADDR="10.0.0.9")
    assert "登录失败次数过多" in response.content.decode()


def test_username_is_throttled_from_any_address(client, staff_user):
    for n in range(5):
        password_step(client, staff_user, password="wrong", REMOTE_ADDR=f"10.0.1.{n}")
    response = password_step(client, staff_user, REMOTE_ADDR="10.0.2.1")
    assert "登录失败次数过多" in response.content.decode()


@override_settings(TRUSTED_PROXIES=["127.0.0.1"])
def test_behind_the_proxy_made_up_usernames_lock_no_real_account(
    client, make_user, staff_user, deputy_user
):
    """Found item 2: behind nginx every request came from 127.0.0.1, so five guesses at
    made-up names locked out admin, head and liaison alike."""
    admin = make_user("系统管理员", username="admin1")
    for n in range(5):
        client.post(
            reverse("login"),
            {"username": f"nobody{n}", "password": "x"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )
    assert not LoginThrottle.objects.filter(key__startswith="account:").exists()
    for user, address in ((admin, "10.1.0.1"), (staff_user, "10.1.0.2"), (deputy_user, "10.1.0.3")):
        other = Client()
        response = password_step(other, user, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=address)
        assert response.status_code == 302, user
    # the guesser's own address is the one that waits
    response = password_step(
        client, staff_user, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7"
    )
    assert "登录失败次数过多" in response.content.decode()


@override_settings(TRUSTED_PROXIES=["127.0.0.1"])
def test_forwarded_for_is_believed_only_from_a_trusted_proxy(client, staff_user):
    # a client talking to the server directly cannot choose its address
    for n in range(5):
        client.post(
            reverse("login"),
            {"username": f"nobody{n}", "password": "x"},
            REMOTE_ADDR="10.5.5.5",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    assert LoginThrottle.objects.get(key="address:10.5.5.5").failures == 5
    # behind the proxy, hops the client wrote itself (left of the real one) are ignored
    client.post(
        reverse("login"),
        {"username": "nobody", "password": "x"},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="1.2.3.4, 10.6.6.6",
    )
    assert LoginThrottle.objects.filter(key="address:10.6.6.6").exists()
    assert not LoginThrottle.objects.filter(key="address:1.2.3.4").exists()


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_DELAY_SECONDS=300)
def test_limit_and_delay_come_from_settings(client, staff_user):
    fail(client, staff_user, 3)
    response = password_step(client, staff_user)
    assert "登录失败次数过多，请 5 分钟后再试。" in response.content.decode()


def test_failures_are_forgotten_after_the_memory(client, staff_user):
    fail(client, staff_user, 4)
    age_rows(25 * 3600)
    fail(client, staff_user, 1)
    assert throttle.check("staffer") is None
    assert LoginThrottle.objects.get(key=f"account:{staff_user.pk}").failures == 1


def test_wrong_second_factor_codes_count_too(client, staff_user, totp_device):
    device = totp_device(staff_user)
    password_step(client, staff_user)
    for _ in range(5):
        client.post(reverse("login_verify"), {"code": "000000"})
    assert UsageRecord.objects.filter(action=UsageAction.LOGIN_FAILED).count() == 5
    response = client.post(reverse("login_verify"), {"code": totp_token(device)})
    assert "登录失败次数过多，请 1 分钟后再试。" in response.content.decode()
    assert client.get("/").status_code == 302  # still not through


@pytest.mark.django_db(transaction=True)
def test_simultaneous_guesses_are_counted_one_after_another(make_user):
    """Found item 2: under 24 simultaneous guesses 12 reached the password check
    (limit 5). Now the counters are locked across the check: exactly 5 do."""
    make_user("工作人员", username="target")
    start = threading.Barrier(24)
    results = []

    def guess(n):
        try:
            start.wait()
            response = Client().post(
                reverse("login"),
                {"username": "target", "password": f"guess-{n}"},
                REMOTE_ADDR=f"10.9.0.{n}",
            )
            results.append(response.content.decode())
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 24
    checked = UsageRecord.objects.filter(action=UsageAction.LOGIN_FAILED, username="target")
    assert checked.count() == 5
    assert sum("登录失败次数过多" in r for r in results) == 19
    assert LoginThrottle.objects.get(key__startswith="account:").failures == 5


def test_check_reads_the_wait_in_force(client, staff_user):
    fail(client, staff_user, 5)
    now = timezone.now()
    assert throttle.check("staffer", None, now=now).minutes_left == 1
    assert throttle.check("someone-else", "10.9.9.9", now=now) is None
    assert throttle.check("staffer", None, now=now + timedelta(minutes=2)) is None
