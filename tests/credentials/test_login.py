from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from cms.credentials import services
from cms.usage.models import UsageAction, UsageRecord

from .conftest import password_step


def page_text(response):
    return response.content.decode()


def test_login_page_is_chinese(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "用户名" in page_text(response) and "密码" in page_text(response)
    assert services.SESSION_TIMED_OUT not in page_text(response)


def test_wrong_password_is_refused_and_recorded(client, staff_user):
    response = password_step(client, staff_user, password="not-the-password")
    assert response.status_code == 200
    assert "用户名或密码错误。" in page_text(response)
    assert "_auth_user_id" not in client.session
    record = UsageRecord.objects.get(action=UsageAction.LOGIN_FAILED)
    assert record.username == "staffer"
    assert "用户名或密码错误" in record.detail


def test_unknown_username_gets_the_same_message(client, db):
    response = client.post(reverse("login"), {"username": "nobody", "password": "whatever"})
    assert "用户名或密码错误。" in page_text(response)
    assert "停用" not in page_text(response)
    assert UsageRecord.objects.filter(action=UsageAction.LOGIN_FAILED, username="nobody").exists()


def test_disabled_account_is_told_only_with_the_right_password(client, staff_user):
    staff_user.is_active = False
    staff_user.save()

    wrong = password_step(client, staff_user, password="not-the-password")
    assert "用户名或密码错误。" in page_text(wrong)
    assert "停用" not in page_text(wrong)

    right = password_step(client, staff_user)
    assert "该账户已停用，请联系系统管理员。" in page_text(right)
    assert "_auth_user_id" not in client.session
    denied = UsageRecord.objects.get(action=UsageAction.DENIED)
    assert denied.user == staff_user and "账户已停用" in denied.detail
    assert UsageRecord.objects.filter(action=UsageAction.LOGIN_FAILED).count() == 2


def test_empty_form_asks_for_both_fields(client, db):
    response = client.post(reverse("login"), {"username": "", "password": ""})
    assert "请输入用户名。" in page_text(response)


def test_password_only_user_goes_to_next(client, deputy_user):
    response = client.post(
        reverse("login"),
        {"username": deputy_user.username, "password": deputy_user.test_password, "next": "/x/"},
    )
    assert response.status_code == 302 and response["Location"] == "/x/"
    assert UsageRecord.objects.filter(action=UsageAction.LOGIN, user=deputy_user).exists()


def test_next_to_another_site_is_ignored(client, deputy_user):
    response = client.post(
        reverse("login"),
        {
            "username": deputy_user.username,
            "password": deputy_user.test_password,
            "next": "https://elsewhere.example/",
        },
    )
    assert response["Location"] == "/"


def test_expired_session_is_explained_on_the_login_page(client, deputy_user):
    password_step(client, deputy_user)
    assert client.get(reverse("account_security")).status_code == 200
    Session.objects.all().delete()  # what idle expiry and the session cleanup do

    response = client.get(reverse("account_security"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert "登录已超时，请重新登录。" in page_text(response)
    # Said once: reloading the login page is a plain login page again.
    assert "登录已超时" not in page_text(client.get(reverse("login")))


def test_stale_session_cookie_alone_is_recognised(client, deputy_user):
    client.force_login(deputy_user)
    Session.objects.all().delete()
    response = client.get(reverse("login"))
    assert "登录已超时，请重新登录。" in page_text(response)


def test_logout_is_not_a_timeout(client, deputy_user):
    password_step(client, deputy_user)
    client.post(reverse("logout"))
    response = client.get(reverse("login"))
    assert "登录已超时" not in page_text(response)


def test_login_without_csrf_token_is_refused_in_chinese(db, deputy_user):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        reverse("login"),
        {"username": deputy_user.username, "password": deputy_user.test_password},
    )
    assert response.status_code == 403
    assert "请求未通过安全校验" in page_text(response)
    assert "_auth_user_id" not in strict.session
    record = UsageRecord.objects.get(action=UsageAction.DENIED)
    assert "CSRF" in record.detail


def test_wagtail_admin_login_leads_to_the_one_login_form(client, db):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=%2Fadmin%2F"


def test_package_webauthn_endpoints_are_closed(client, deputy_user):
    assert client.post("/webauthn/authentication/begin/").status_code == 404
    client.force_login(deputy_user)
    assert client.post("/webauthn/registration/begin/").status_code == 404
