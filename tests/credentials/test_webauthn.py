from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from cms.credentials import services
from cms.usage.models import UsageAction, UsageRecord

from .conftest import password_step


def test_security_key_completes_step_two(client, deputy_user, software_key):
    credential = software_key.enrol(deputy_user)
    response = password_step(client, deputy_user)
    assert response["Location"].startswith(reverse("login_verify"))
    page = client.get(reverse("login_verify"))
    assert "passkey-verification-button" in page.content.decode()
    assert "otp_webauthn_config" in page.content.decode()

    response = software_key.sign_in(client)
    assert response.status_code == 200, response.content
    assert response.json()["id"] == credential.pk
    assert client.session[DEVICE_ID_SESSION_KEY] == credential.persistent_id
    assert client.get(reverse("account_security")).status_code == 200
    assert UsageRecord.objects.filter(
        action=UsageAction.LOGIN, detail__contains="安全密钥“蓝色 USB 密钥”"
    ).exists()


def test_revoked_key_is_refused_but_kept(client, deputy_user, admin_user_role, software_key):
    credential = software_key.enrol(deputy_user)
    spare = software_key.__class__()
    spare.enrol(deputy_user, name="备用密钥")

    admin = client.__class__()
    admin.force_login(admin_user_role)
    admin.post(
        reverse("credentials_admin:revoke", args=[deputy_user.pk]),
        {"device": credential.persistent_id, "reason": "遗失"},
    )

    password_step(client, deputy_user)
    response = software_key.sign_in(client)
    assert response.status_code == 403
    assert response.json()["detail"] == "该安全密钥已被吊销，请联系系统管理员。"
    assert DEVICE_ID_SESSION_KEY not in client.session
    credential.refresh_from_db()
    assert credential.confirmed is False  # still there, as a record
    failure = UsageRecord.objects.get(action=UsageAction.LOGIN_FAILED)
    assert failure.user == deputy_user and "已吊销" in failure.detail

    # the other key still works
    assert spare.sign_in(client).status_code == 200


def test_key_of_another_user_is_refused(client, deputy_user, staff_user, software_key):
    software_key.enrol(staff_user)
    other = software_key.__class__()
    other.enrol(deputy_user)
    password_step(client, deputy_user)
    response = software_key.sign_in(client)
    assert response.status_code == 403
    assert response.json()["detail"] == "这把安全密钥不属于当前账户。"


def test_key_step_needs_the_password_step_first(client, db):
    response = client.post(reverse("login_key_begin"), content_type="application/json")
    assert response.status_code == 403
    assert response.json()["detail"] == "请先输入用户名和密码。"


def test_key_step_is_throttled(client, deputy_user, software_key):
    software_key.enrol(deputy_user)
    password_step(client, deputy_user)
    for _ in range(5):
        client.post(reverse("login_verify"), {"code": "000000"})
    response = client.post(reverse("login_key_begin"), content_type="application/json")
    assert response.status_code == 429
    assert response.json()["detail"] == "登录失败次数过多，请 1 分钟后再试。"  # the first wait


def test_key_registration_on_the_security_page(client, deputy_user, software_key):
    client.force_login(deputy_user)
    page = client.get(reverse("account_security"))
    assert "passkey-register-button" in page.content.decode()
    response = software_key.register(client)
    assert response.status_code == 200, response.content
    credential = services.security_keys(deputy_user).get()
    assert credential.pk == response.json()["id"] and credential.confirmed
    assert credential.name == "安全密钥 1"
    event = deputy_user.credential_events.get()
    assert event.action == "enrol" and event.device == "安全密钥“安全密钥 1”"
    assert UsageRecord.objects.filter(action=UsageAction.CREDENTIAL, user=deputy_user).exists()
    # registering counts as verifying this session, and the next login needs the key
    assert client.session[DEVICE_ID_SESSION_KEY] == credential.persistent_id
    client.post(reverse("logout"))
    password_step(client, deputy_user)
    assert software_key.sign_in(client).status_code == 200


def test_unverified_session_cannot_register_another_key(client, deputy_user, software_key):
    software_key.enrol(deputy_user)
    password_step(client, deputy_user)
    response = client.post(reverse("security_key_begin"), content_type="application/json")
    assert response.status_code == 302  # sent to step two first
