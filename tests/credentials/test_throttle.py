from datetime import timedelta

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from cms.credentials import throttle
from cms.usage.models import UsageAction, UsageRecord

from .conftest import password_step, totp_token


def fail(client, user, times, **extra):
    for _ in range(times):
        response = password_step(client, user, password="wrong-password", **extra)
        assert "用户名或密码错误。" in response.content.decode()


def test_right_password_is_refused_while_throttled(client, staff_user):
    fail(client, staff_user, 5)
    response = password_step(client, staff_user)
    assert "登录失败次数过多，请 15 分钟后再试。" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert UsageRecord.objects.filter(action=UsageAction.DENIED, username="staffer").exists()
    # the refused attempt is not itself a failure that would prolong the wait
    assert UsageRecord.objects.filter(action=UsageAction.LOGIN_FAILED).count() == 5


def test_four_failures_still_let_the_right_password_in(client, staff_user):
    fail(client, staff_user, 4)
    response = password_step(client, staff_user)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff_user.pk)


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


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_FAILURE_WINDOW_MINUTES=5)
def test_limit_and_window_come_from_settings(client, staff_user):
    fail(client, staff_user, 3)
    response = password_step(client, staff_user)
    assert "登录失败次数过多，请 5 分钟后再试。" in response.content.decode()


def test_throttle_lifts_when_the_window_has_passed(client, staff_user):
    fail(client, staff_user, 5)
    now = timezone.now()
    assert throttle.check("staffer", None, now=now).minutes_left == 15
    assert throttle.check("STAFFER", None, now=now) is not None
    assert throttle.check("staffer", None, now=now + timedelta(minutes=10)).minutes_left == 5
    assert throttle.check("staffer", None, now=now + timedelta(minutes=15, seconds=1)) is None
    assert throttle.check("someone-else", "10.9.9.9", now=now) is None


def test_wrong_second_factor_codes_count_too(client, staff_user, totp_device):
    device = totp_device(staff_user)
    password_step(client, staff_user)
    for _ in range(5):
        client.post(reverse("login_verify"), {"code": "000000"})
    assert UsageRecord.objects.filter(action=UsageAction.LOGIN_FAILED).count() == 5
    response = client.post(reverse("login_verify"), {"code": totp_token(device)})
    assert "登录失败次数过多，请 15 分钟后再试。" in response.content.decode()
    assert client.get("/").status_code == 302  # still not through
