import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from cms.credentials.models import CredentialEvent, RevokedCredential
from cms.usage.models import AppendOnlyError, UsageAction, UsageRecord


@pytest.fixture
def target(make_user, totp_device, backup_codes, software_key):
    user = make_user("代表/专家", username="lost-key-deputy")
    user.totp = totp_device(user)
    user.backup = backup_codes(user)
    user.key = software_key.enrol(user)
    return user


@pytest.mark.parametrize("who", ["staff_user", "deputy_user"])
def test_others_are_refused(client, request, who, target):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("credentials_admin:index")).status_code == 403
    assert client.get(reverse("credentials_admin:user", args=[target.pk])).status_code == 403
    for name, data in [
        ("revoke", {"device": target.key.persistent_id, "reason": "试图吊销"}),
        ("report_lost", {"reason": "试图挂失"}),
        ("reset", {"reason": "试图重置"}),
    ]:
        response = client.post(reverse(f"credentials_admin:{name}", args=[target.pk]), data)
        assert response.status_code == 403
    assert not CredentialEvent.objects.exists()
    assert not RevokedCredential.objects.exists()
    target.key.refresh_from_db()
    assert target.key.confirmed
    assert UsageRecord.objects.filter(action=UsageAction.DENIED).count() == 5


def test_menu_item_only_for_system_administrators(client, admin_user_role, staff_user):
    # the sidebar menu is JSON inside the page, so look for the item's address
    menu_url = reverse("credentials_admin:index")
    client.force_login(admin_user_role)
    assert menu_url in client.get("/admin/").content.decode()
    client.force_login(staff_user)
    assert menu_url not in client.get("/admin/").content.decode()


def test_administrator_sees_users_and_credentials(client, admin_user_role, target):
    client.force_login(admin_user_role)
    index = client.get(reverse("credentials_admin:index")).content.decode()
    assert "lost-key-deputy" in index
    detail = client.get(reverse("credentials_admin:user", args=[target.pk])).content.decode()
    assert "安全密钥“蓝色 USB 密钥”" in detail and "挂失" in detail and "重置" in detail


def test_revoke_one_credential_needs_a_reason(client, admin_user_role, target):
    client.force_login(admin_user_role)
    url = reverse("credentials_admin:revoke", args=[target.pk])
    response = client.post(url, {"device": target.key.persistent_id, "reason": " "}, follow=True)
    assert "请填写原因。" in response.content.decode()
    assert not RevokedCredential.objects.exists()

    client.post(url, {"device": target.key.persistent_id, "reason": "钥匙损坏"})
    target.key.refresh_from_db()
    assert target.key.confirmed is False
    event = CredentialEvent.objects.get()
    assert (event.user, event.actor, event.action) == (target, admin_user_role, "revoke")
    assert event.reason == "钥匙损坏" and event.device == "安全密钥“蓝色 USB 密钥”"
    usage = UsageRecord.objects.get(action=UsageAction.CREDENTIAL)
    assert usage.user == admin_user_role and "钥匙损坏" in usage.detail
    target.totp.refresh_from_db()
    assert target.totp.confirmed


def test_report_lost_revokes_keys_and_apps_at_once(client, admin_user_role, target):
    client.force_login(admin_user_role)
    client.post(
        reverse("credentials_admin:report_lost", args=[target.pk]), {"reason": "出差途中遗失"}
    )
    target.key.refresh_from_db()
    target.totp.refresh_from_db()
    assert not target.key.confirmed and not target.totp.confirmed
    assert StaticDevice.objects.get(pk=target.backup.pk).confirmed  # codes kept for re-issue
    events = CredentialEvent.objects.filter(action="report_lost")
    assert events.count() == 2 and {e.reason for e in events} == {"出差途中遗失"}
    assert RevokedCredential.objects.filter(user=target).count() == 2
    assert UsageRecord.objects.filter(action=UsageAction.CREDENTIAL).count() == 2


def test_reset_removes_devices_in_use_and_keeps_revoked_records(client, admin_user_role, target):
    client.force_login(admin_user_role)
    client.post(
        reverse("credentials_admin:revoke", args=[target.pk]),
        {"device": target.key.persistent_id, "reason": "损坏"},
    )
    client.post(reverse("credentials_admin:reset", args=[target.pk]), {"reason": "重新发放"})
    assert not TOTPDevice.objects.filter(user=target).exists()
    assert not StaticDevice.objects.filter(user=target).exists()
    target.key.refresh_from_db()  # the revoked key stays, as a record
    reset = CredentialEvent.objects.get(action="reset")
    assert reset.actor == admin_user_role and reset.reason == "重新发放"
    assert "动态口令“手机”" in reset.device and "备用码" in reset.device


def test_credential_events_are_append_only(client, admin_user_role, target):
    client.force_login(admin_user_role)
    client.post(reverse("credentials_admin:report_lost", args=[target.pk]), {"reason": "遗失"})
    event = CredentialEvent.objects.first()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        CredentialEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        event.reason = "改写"
        event.save()
