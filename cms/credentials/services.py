"""Login credentials (登录凭证): the password step, the second factor, and every
change to a user's devices. Views and admin pages call these functions; each change
writes one CredentialEvent and one usage record.

Devices are django-otp devices of three kinds: security keys (WebAuthn, the modern
form of the "USB Key 电子证书"), TOTP apps as fallback, and single-use backup codes.
A revoked device is kept unconfirmed with a RevokedCredential row beside it, so its
use is refused with a clear message and the record survives.
"""

import functools

from django.contrib.auth import authenticate
from django.db import transaction
from django_otp import DEVICE_ID_SESSION_KEY, device_classes, devices_for_user
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.utils import get_credential_model

from cms.roles import has_role
from cms.usage.services import UsageAction, record_usage

from . import conf, throttle
from .models import CredentialAction, CredentialEvent, RevokedCredential

WRONG_PASSWORD = "用户名或密码错误。"
ACCOUNT_DISABLED = "该账户已停用，请联系系统管理员。"
WRONG_CODE = "动态口令或备用码错误，请重新输入。"
CODE_TOO_FAST = "尝试过于频繁，请稍候几秒再输入。"
KEY_REVOKED = "该安全密钥已被吊销，请联系系统管理员。"
TOTP_REVOKED = "该动态口令已被吊销，请联系系统管理员。"
SESSION_TIMED_OUT = "登录已超时，请重新登录。"
ENROL_REQUIRED = "您的角色要求使用第二重验证。请先登记安全密钥或动态口令，然后才能使用本系统。"

KIND_KEY = "key"
KIND_TOTP = "totp"
KIND_BACKUP = "backup"
KIND_LABELS = {KIND_KEY: "安全密钥", KIND_TOTP: "动态口令", KIND_BACKUP: "备用码"}

# Second-factor states of a signed-in user whose session is not yet verified.
MUST_VERIFY = "verify"
MUST_ENROL = "enrol"


class CredentialError(Exception):
    """A refused credential operation; the message is shown to the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def security_key_model():
    return get_credential_model()


# --- describing devices -----------------------------------------------------------


def device_kind(device) -> str:
    if isinstance(device, StaticDevice):
        return KIND_BACKUP
    if isinstance(device, TOTPDevice):
        return KIND_TOTP
    return KIND_KEY


def describe(device) -> str:
    kind = device_kind(device)
    if kind == KIND_BACKUP:
        return "备用码"
    name = device.name or "未命名"
    return f"{KIND_LABELS[kind]}“{name}”"


def is_revoked(device) -> bool:
    return RevokedCredential.objects.filter(device_key=device.persistent_id).exists()


def active_devices(user) -> list:
    return list(devices_for_user(user, confirmed=True))


def primary_devices(user) -> list:
    """Keys and TOTP apps: the devices backup codes stand in for."""
    return [d for d in active_devices(user) if device_kind(d) != KIND_BACKUP]


def revoked_devices(user):
    return RevokedCredential.objects.filter(user=user)


def security_keys(user):
    return security_key_model().objects.filter(user=user)


def role_requires_second_factor(user) -> bool:
    roles = conf.otp_required_roles()
    return bool(roles) and has_role(user, *roles)


@functools.cache
def _device_models() -> tuple:
    # django_otp.device_classes() walks every installed model; they do not change once loaded
    return tuple(device_classes())


def has_active_device(user) -> bool:
    """active_devices(user) is not empty: asked on every page an unverified user opens, so
    an EXISTS per device model, not every device's row."""
    if user.is_anonymous:
        return False
    return any(
        model.objects.devices_for_user(user, confirmed=True).exists() for model in _device_models()
    )


def second_factor_state(user) -> str | None:
    """What a signed-in, unverified user must do before anything else, if anything."""
    if has_active_device(user):
        return MUST_VERIFY
    if role_requires_second_factor(user):
        return MUST_ENROL
    return None


def drop_revoked_verification(request) -> None:
    """A session verified with a device revoked since then is verified no longer."""
    user = request.user
    device = getattr(user, "otp_device", None)
    if device is not None and not device.confirmed:
        request.session.pop(DEVICE_ID_SESSION_KEY, None)
        user.otp_device = None


def find_device(user, device_key: str):
    device = Device.from_persistent_id(device_key) if device_key else None
    if device is None or device.user_id != user.pk:
        raise CredentialError("找不到该凭证，可能已被删除。")
    return device


# --- the login steps -----------------------------------------------------------------


def authenticate_password(request, username: str, password: str):
    """Step one, the only place a password is checked. Returns (user, "") or
    (None, message). It runs inside the throttle's guard (counted per account and per
    address, under a lock); a failed password is written to the usage log by
    cms.usage's user_login_failed receiver; a disabled account is told only to someone
    who knows its password."""
    with throttle.guard(request, username) as attempt:
        if attempt.refused:
            record_usage(
                request,
                UsageAction.DENIED,
                username=username[:150],
                detail=(
                    "登录失败次数过多，拒绝登录尝试"
                    f"（尚需等待 {attempt.refused.minutes_left} 分钟）"
                ),
            )
            return None, attempt.refused.message
        user = authenticate(request, username=username, password=password)
        if user is not None:
            attempt.succeeded = True
            return user, ""
        attempt.failed = True
        candidate = throttle.account_for(username)
        if candidate is not None and not candidate.is_active and candidate.check_password(password):
            record_usage(
                request,
                UsageAction.DENIED,
                user=candidate,
                detail="账户已停用：密码正确，但拒绝登录",
            )
            return None, ACCOUNT_DISABLED
        return None, WRONG_PASSWORD


def _code_matches_revoked_totp(user, code: str) -> bool:
    if not code.isdigit():
        return False
    keys = set(revoked_devices(user).values_list("device_key", flat=True))
    for device in TOTPDevice.objects.filter(user=user, confirmed=False):
        if device.persistent_id in keys:
            totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
            if totp.verify(int(code), device.tolerance):
                return True
    return False


def verify_code(request, code: str):
    """Step two with a TOTP code or a backup code, inside the throttle's guard.
    Returns (device, "") or (None, message)."""
    user = request.user
    code = "".join((code or "").split()).lower()
    with throttle.guard(request, user.get_username(), user=user) as attempt:
        if attempt.refused:
            record_usage(
                request,
                UsageAction.DENIED,
                detail=(
                    "登录失败次数过多，拒绝第二步验证"
                    f"（尚需等待 {attempt.refused.minutes_left} 分钟）"
                ),
            )
            return None, attempt.refused.message
        if not code:
            return None, "请输入动态口令或备用码。"
        device, held_back = _check_code(user, code)
        if device is not None:
            attempt.succeeded = True
            otp_login(request, device)
            record_usage(request, UsageAction.LOGIN, detail=f"第二步验证通过：{describe(device)}")
            return device, ""
        attempt.failed = True
        if _code_matches_revoked_totp(user, code):
            reason, message = "第二步验证失败：使用已吊销的动态口令", TOTP_REVOKED
        elif held_back:
            reason, message = "第二步验证失败：尝试过于频繁", CODE_TOO_FAST
        else:
            reason, message = "第二步验证失败：动态口令或备用码错误", WRONG_CODE
        record_usage(request, UsageAction.LOGIN_FAILED, detail=reason)
        return None, message


def _check_code(user, code):
    held_back = False
    candidates = [*TOTPDevice.objects.filter(user=user, confirmed=True)] if code.isdigit() else []
    candidates += list(StaticDevice.objects.filter(user=user, confirmed=True))
    for device in candidates:
        allowed, _ = device.verify_is_allowed()
        if not allowed:
            held_back = True
            continue
        if device.verify_token(code):
            return device, held_back
    return None, held_back


def security_key_verified(request, device) -> None:
    """Step two with a security key, after django-otp-webauthn checked its signature."""
    otp_login(request, device)
    record_usage(request, UsageAction.LOGIN, detail=f"第二步验证通过：{describe(device)}")


def security_key_refused(request, reason: str) -> None:
    record_usage(request, UsageAction.LOGIN_FAILED, detail=f"第二步验证失败：{reason}")
    throttle.note_failure(request, request.user)


# --- changes to devices --------------------------------------------------------------


def _record(request, user, action, device_text="", reason="", actor=None):
    CredentialEvent.objects.create(
        user=user, actor=actor, action=action, device=device_text[:300], reason=reason
    )
    label = CredentialAction(action).label
    detail = f"{label}：{device_text}" if device_text else label
    if reason:
        detail += f"；原因：{reason}"
    record_usage(request, UsageAction.CREDENTIAL, obj=user, detail=detail, user=actor)


def pending_totp(user):
    revoked = set(revoked_devices(user).values_list("device_key", flat=True))
    for device in TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id"):
        if device.persistent_id not in revoked:
            return device
    return None


def _discard_pending_totp(user):
    pending = pending_totp(user)
    while pending is not None:
        pending.delete()
        pending = pending_totp(user)


@transaction.atomic
def start_totp_enrolment(user):
    """A new, unconfirmed TOTP device; it counts only once a first code confirms it."""
    _discard_pending_totp(user)
    number = TOTPDevice.objects.filter(user=user).count() + 1
    return TOTPDevice.objects.create(user=user, name=f"动态口令 {number}", confirmed=False)


@transaction.atomic
def confirm_totp(request, token: str):
    user = request.user
    device = pending_totp(user)
    if device is None:
        raise CredentialError("没有待确认的动态口令，请重新开始登记。")
    token = "".join((token or "").split())
    if not token.isdigit() or not device.verify_token(token):
        raise CredentialError("动态口令不正确。请核对手机应用中当前显示的六位数字后重试。")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    if not user.is_verified():
        otp_login(request, device)
    _record(request, user, CredentialAction.ENROL, describe(device), actor=user)
    return device


@transaction.atomic
def generate_backup_codes(request) -> list[str]:
    """A fresh set of single-use backup codes; the old set stops working."""
    user = request.user
    if not primary_devices(user):
        raise CredentialError("请先登记安全密钥或动态口令，再生成备用码。")
    revoked = set(revoked_devices(user).values_list("device_key", flat=True))
    for old in StaticDevice.objects.filter(user=user):
        if old.persistent_id not in revoked:
            old.delete()
    device = StaticDevice.objects.create(user=user, name="备用码", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(conf.backup_code_count())]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    _record(
        request,
        user,
        CredentialAction.BACKUP_CODES,
        f"备用码 {len(codes)} 个（此前的备用码已作废）",
        actor=user,
    )
    return codes


def security_key_registered(request, device) -> None:
    if not device.name:
        number = security_keys(device.user).count()
        device.name = f"安全密钥 {number}"
        device.save(update_fields=["name"])
    _record(request, device.user, CredentialAction.ENROL, describe(device), actor=request.user)


@transaction.atomic
def remove_own_device(request, device_key: str) -> None:
    user = request.user
    device = find_device(user, device_key)
    if not device.confirmed:
        raise CredentialError("已吊销的凭证作为记录保留，不能删除。")
    kind = device_kind(device)
    remaining = [d for d in primary_devices(user) if d.persistent_id != device.persistent_id]
    if kind != KIND_BACKUP and not remaining and role_requires_second_factor(user):
        raise CredentialError(
            "您的角色必须使用第二重验证，不能删除最后一个安全密钥或动态口令。请先登记新的，再删除这一个。"
        )
    text = describe(device)
    device.delete()
    _record(request, user, CredentialAction.REMOVE, text, actor=user)
    if kind != KIND_BACKUP and not remaining:
        # Backup codes stand in for a key or an app; with neither left they go too.
        for backup in StaticDevice.objects.filter(user=user, confirmed=True):
            backup.delete()
            _record(
                request,
                user,
                CredentialAction.REMOVE,
                "备用码（随最后一个验证方式删除）",
                actor=user,
            )


# --- administration (系统管理员) ----------------------------------------------------


def can_manage(user) -> bool:
    return bool(user.is_authenticated and user.has_perm("cms.manage_accounts"))


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise CredentialError("请填写原因。")
    return reason


def _revoke(request, device, actor, reason, action):
    device.confirmed = False
    device.save(update_fields=["confirmed"])
    text = describe(device)
    RevokedCredential.objects.create(
        device_key=device.persistent_id,
        user=device.user,
        description=text,
        revoked_by=actor,
        reason=reason,
    )
    _record(request, device.user, action, text, reason=reason, actor=actor)


@transaction.atomic
def revoke_device(request, user, device_key: str, reason: str) -> str:
    reason = _require_reason(reason)
    device = find_device(user, device_key)
    if not device.confirmed:
        raise CredentialError("该凭证已经吊销或尚未启用。")
    _revoke(request, device, request.user, reason, CredentialAction.REVOKE)
    return describe(device)


@transaction.atomic
def report_lost(request, user, reason: str) -> int:
    """挂失: every security key and TOTP app of the user is revoked at once."""
    reason = _require_reason(reason)
    devices = primary_devices(user)
    if not devices:
        raise CredentialError("该账户没有可挂失的安全密钥或动态口令。")
    for device in devices:
        _revoke(request, device, request.user, reason, CredentialAction.REPORT_LOST)
    return len(devices)


@transaction.atomic
def reset_devices(request, user, reason: str) -> int:
    """重置: every device in use is removed so the user enrols afresh; revoked ones
    stay as records."""
    reason = _require_reason(reason)
    devices = active_devices(user)
    pending = pending_totp(user)
    if pending is not None:
        devices.append(pending)
    if not devices:
        raise CredentialError("该账户没有可重置的凭证。")
    text = "、".join(describe(d) for d in devices)
    for device in devices:
        device.delete()
    _record(request, user, CredentialAction.RESET, text, reason=reason, actor=request.user)
    return len(devices)
