from django.test import override_settings
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from cms import roles
from cms.credentials import services
from cms.credentials.models import CredentialEvent
from cms.usage.models import UsageAction, UsageRecord

from .conftest import totp_token, verified_login


def test_page_needs_login(client, db):
    response = client.get(reverse("account_security"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_totp_enrolment_shows_a_qr_code_and_needs_a_first_code(client, deputy_user):
    client.force_login(deputy_user)
    client.post(reverse("security_totp_start"))
    device = services.pending_totp(deputy_user)
    assert device is not None and not device.confirmed
    page = client.get(reverse("account_security")).content.decode()
    assert "<svg" in page and "<path" in page
    assert "确认登记" in page

    wrong = client.post(reverse("security_totp_confirm"), {"code": "000000"}, follow=True)
    assert "动态口令不正确" in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert services.second_factor_state(deputy_user) is None  # unconfirmed does not count

    device.throttle_reset()
    client.post(reverse("security_totp_confirm"), {"code": totp_token(device)})
    device.refresh_from_db()
    assert device.confirmed
    assert CredentialEvent.objects.get(user=deputy_user).action == "enrol"
    assert UsageRecord.objects.get(action=UsageAction.CREDENTIAL).user == deputy_user


def test_starting_again_replaces_the_unconfirmed_device(client, deputy_user):
    client.force_login(deputy_user)
    client.post(reverse("security_totp_start"))
    client.post(reverse("security_totp_start"))
    assert TOTPDevice.objects.filter(user=deputy_user).count() == 1


def test_backup_codes_need_a_key_or_app_first(client, deputy_user):
    client.force_login(deputy_user)
    response = client.post(reverse("security_backup_codes"), follow=True)
    assert "请先登记安全密钥或动态口令，再生成备用码。" in response.content.decode()
    assert not StaticDevice.objects.filter(user=deputy_user).exists()


def test_backup_codes_are_shown_once(client, deputy_user, totp_device):
    device = totp_device(deputy_user)
    verified_login(client, deputy_user, device)
    response = client.post(reverse("security_backup_codes"), follow=True)
    codes = list(
        StaticDevice.objects.get(user=deputy_user).token_set.values_list("token", flat=True)
    )
    assert len(codes) == 10
    page = response.content.decode()
    assert all(code in page for code in codes)
    again = client.get(reverse("account_security")).content.decode()
    assert not any(code in again for code in codes)
    assert "剩余 10 个" in again

    client.post(reverse("security_backup_codes"))
    assert StaticDevice.objects.filter(user=deputy_user).count() == 1
    fresh = StaticDevice.objects.get(user=deputy_user).token_set.values_list("token", flat=True)
    assert not set(codes) & set(fresh)


def test_user_removes_own_device(client, deputy_user, totp_device, backup_codes):
    first = totp_device(deputy_user, name="旧手机")
    second = totp_device(deputy_user, name="新手机")
    backup_codes(deputy_user)
    verified_login(client, deputy_user, second)
    client.post(reverse("security_remove_device"), {"device": first.persistent_id})
    assert not TOTPDevice.objects.filter(pk=first.pk).exists()
    assert CredentialEvent.objects.get(action="remove").device == "动态口令“旧手机”"
    # removing the last key or app takes the backup codes with it
    client.post(reverse("security_remove_device"), {"device": second.persistent_id})
    assert services.active_devices(deputy_user) == []


def test_user_cannot_remove_someone_elses_device(client, deputy_user, staff_user, totp_device):
    theirs = totp_device(staff_user)
    client.force_login(deputy_user)
    response = client.post(
        reverse("security_remove_device"), {"device": theirs.persistent_id}, follow=True
    )
    assert "找不到该凭证" in response.content.decode()
    assert TOTPDevice.objects.filter(pk=theirs.pk).exists()


@override_settings(OTP_REQUIRED_ROLES=[roles.STAFF])
def test_required_role_keeps_its_last_device(client, staff_user, totp_device, backup_codes):
    device = totp_device(staff_user)
    backup_codes(staff_user)
    verified_login(client, staff_user, device)
    response = client.post(
        reverse("security_remove_device"), {"device": device.persistent_id}, follow=True
    )
    assert "不能删除最后一个安全密钥或动态口令" in response.content.decode()
    assert TOTPDevice.objects.filter(pk=device.pk, confirmed=True).exists()
