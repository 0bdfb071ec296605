"""Security-key ceremonies, built on django-otp-webauthn's own views and script.

The site's endpoints sit inside the login flow (step two) and the account security
page (registration): step two is throttled, a revoked key is refused with its own
message, every outcome is recorded, and every message is Chinese. The package's
endpoints under /webauthn/ are closed by the middleware so these are the only way in.
"""

import json

from django.urls import reverse
from django_otp_webauthn import exceptions
from django_otp_webauthn.templatetags.otp_webauthn import get_configuration
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from cms.usage.services import UsageAction, client_address, record_usage

from . import services, throttle


class CredentialRevoked(exceptions.OTPWebAuthnApiError):
    status_code = 403
    default_detail = services.KEY_REVOKED
    default_code = "credential_revoked"


class TooManyFailures(exceptions.OTPWebAuthnApiError):
    status_code = 429
    default_code = "too_many_failures"


CHINESE_DETAILS = {
    "credential_revoked": services.KEY_REVOKED,
    "user_disabled": services.ACCOUNT_DISABLED,
    "credential_disabled": "该安全密钥已停用，请联系系统管理员。",
    "credential_not_found": "系统中没有这把安全密钥，可能已被删除。",
    "credential_user_mismatch": "这把安全密钥不属于当前账户。",
    "invalid_state": "验证已失效，请重新点击按钮再试。",
    "not_authenticated": "请先输入用户名和密码。",
    "passwordless_login_disabled": "请先输入用户名和密码。",
    "user_not_verified": "请先用已登记的安全密钥、动态口令或备用码完成验证，再登记新的安全密钥。",
    "malformed_request": "请求格式有误，请刷新页面后重试。",
}
GENERIC_FAILURE = "安全密钥验证未通过，请重试。"

# Why a refused key is written to the usage log.
REFUSAL_REASONS = {
    "credential_revoked": "使用已吊销的安全密钥",
    "credential_disabled": "使用已停用的安全密钥",
    "credential_not_found": "使用未登记的安全密钥",
    "credential_user_mismatch": "使用其他账户的安全密钥",
    "invalid_state": "验证状态失效",
}


def webauthn_configuration(request) -> dict:
    return get_configuration(
        request,
        {
            "beginAuthenticationUrl": reverse("login_key_begin"),
            "completeAuthenticationUrl": reverse("login_key_complete"),
            "beginRegistrationUrl": reverse("security_key_begin"),
            "completeRegistrationUrl": reverse("security_key_complete"),
        },
    )


class ChineseErrorsMixin:
    def handle_exception(self, exc):
        if isinstance(exc, exceptions.OTPWebAuthnApiError):
            exc.detail = CHINESE_DETAILS.get(exc.code) or (
                exc.detail if isinstance(exc, TooManyFailures) else GENERIC_FAILURE
            )
        return super().handle_exception(exc)


class SecondStepMixin(ChineseErrorsMixin):
    """Only a user past the password step may use a key here, and not while throttled."""

    def check_can_authenticate(self):
        user = self.get_user()
        if user is None:
            raise exceptions.NotAuthenticated()
        refused = throttle.check(user.get_username(), client_address(self.request))
        if refused:
            self.request.throttled = True
            record_usage(
                self.request,
                UsageAction.DENIED,
                detail=f"登录失败次数过多，拒绝安全密钥验证（尚需等待 {refused.minutes_left} 分钟）",
            )
            raise TooManyFailures(detail=refused.message)
        super().check_can_authenticate()


class LoginKeyBeginView(SecondStepMixin, BeginCredentialAuthenticationView):
    pass


class LoginKeyCompleteView(SecondStepMixin, CompleteCredentialAuthenticationView):
    def check_device_usable(self, device):
        if not device.confirmed and services.is_revoked(device):
            raise CredentialRevoked()
        super().check_device_usable(device)

    def complete_auth(self, device):
        services.security_key_verified(self.request, device)

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.OTPWebAuthnApiError) and not getattr(
            self.request, "throttled", False
        ):
            if self.request.user.is_authenticated:
                reason = REFUSAL_REASONS.get(exc.code, f"安全密钥验证未通过（{exc.code}）")
                services.security_key_refused(self.request, reason)
        return super().handle_exception(exc)


class SecurityKeyBeginView(ChineseErrorsMixin, BeginCredentialRegistrationView):
    pass


class SecurityKeyCompleteView(ChineseErrorsMixin, CompleteCredentialRegistrationView):
    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        if response.status_code == 200:
            device_id = json.loads(response.content)["id"]
            device = services.security_keys(self.request.user).get(pk=device_id)
            services.security_key_registered(self.request, device)
        return response
