from django.test import override_settings
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from cms import roles
from cms.credentials import services
from cms.credentials.models import CredentialEvent
from cms.usage.models import UsageAction, UsageRecord

from .conftest import password_step, totp_token, verified_login


def test_user_with_totp_must_pass_step_two(client, deputy_user, totp_device):
    device = totp_device(deputy_user)
    response = password_step(client, deputy_user)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login_verify"))

    blocked = client.get(reverse("account_security"))
    assert blocked.status_code == 302 and blocked["Location"].startswith(reverse("login_verify"))

    page = client.get(reverse("login_verify"))
    assert "第二步验证" in page.content.decode()
    response = client.post(reverse("login_verify"), {"code": totp_token(device)})
    assert response.status_code == 302
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get(reverse("account_security")).status_code == 200
    assert UsageRecord.objects.filter(
        action=UsageAction.LOGIN, detail__contains="第二步验证通过"
    ).exists()


def test_wrong_code_is_refused_and_recorded(client, deputy_user, totp_device):
    totp_device(deputy_user)
    password_step(client, deputy_user)
    response = client.post(reverse("login_verify"), {"code": "123456"})
    assert "动态口令或备用码错误，请重新输入。" in response.content.decode()
    assert DEVICE_ID_SESSION_KEY not in client.session
    record = UsageRecord.objects.get(action=UsageAction.LOGIN_FAILED)
    assert record.user == deputy_user and "动态口令或备用码错误" in record.detail


def test_backup_code_works_once(client, deputy_user, totp_device, backup_codes):
    totp_device(deputy_user)
    backup_codes(deputy_user, codes=["ab12cd34", "ef56gh78"])
    password_step(client, deputy_user)
    response = client.post(reverse("login_verify"), {"code": "AB12 CD34"})
    assert response.status_code == 302
    assert client.session.get(DEVICE_ID_SESSION_KEY, "").startswith("otp_static")

    client.post(reverse("logout"))
    password_step(client, deputy_user)
    again = client.post(reverse("login_verify"), {"code": "ab12cd34"})
    assert "动态口令或备用码错误，请重新输入。" in again.content.decode()
    assert DEVICE_ID_SESSION_KEY not in client.session


@override_settings(OTP_REQUIRED_ROLES=[roles.STAFF])
def test_required_role_without_device_enrols_before_anything(client, staff_user):
    response = password_step(client, staff_user)
    assert response["Location"] == reverse("account_security")
    for path in ("/", "/admin/", "/search/?q=预算"):
        blocked = client.get(path)
        assert blocked.status_code == 302 and blocked["Location"] == reverse("account_security")
    page = client.get(reverse("account_security"))
    assert page.status_code == 200
    assert "请先登记安全密钥或动态口令" in page.content.decode()

    client.post(reverse("security_totp_start"))
    device = services.pending_totp(staff_user)
    client.post(reverse("security_totp_confirm"), {"code": totp_token(device)})
    device.refresh_from_db()
    assert device.confirmed
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    admin = client.get("/admin/")
    assert admin.status_code == 200
    assert CredentialEvent.objects.filter(user=staff_user, action="enrol").count() == 1


@override_settings(OTP_REQUIRED_ROLES=[roles.STAFF])
def test_required_role_applies_to_sessions_opened_any_way(client, staff_user, deputy_user):
    client.force_login(staff_user)
    assert client.get("/")["Location"] == reverse("account_security")
    client.force_login(deputy_user)  # a role outside the list
    response = client.get(reverse("account_security"))
    assert response.status_code == 200


def test_revoked_totp_code_gets_its_own_message(client, deputy_user, totp_device, backup_codes):
    device = totp_device(deputy_user)
    backup_codes(deputy_user)
    code = totp_token(device)
    device.confirmed = False
    device.save()
    services.RevokedCredential.objects.create(
        device_key=device.persistent_id, user=deputy_user, description="动态口令“手机”"
    )
    password_step(client, deputy_user)
    response = client.post(reverse("login_verify"), {"code": code})
    assert "该动态口令已被吊销，请联系系统管理员。" in response.content.decode()
    assert UsageRecord.objects.filter(
        action=UsageAction.LOGIN_FAILED, detail__contains="已吊销"
    ).exists()


def test_revoking_ends_a_session_verified_with_that_device(
    client, deputy_user, admin_user_role, totp_device, backup_codes
):
    device = totp_device(deputy_user)
    backup_codes(deputy_user)
    verified_login(client, deputy_user, device)
    assert client.get(reverse("account_security")).status_code == 200

    admin_client = client.__class__()
    admin_client.force_login(admin_user_role)
    admin_client.post(
        reverse("credentials_admin:revoke", args=[deputy_user.pk]),
        {"device": device.persistent_id, "reason": "手机丢失"},
    )
    response = client.get(reverse("account_security"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login_verify"))
