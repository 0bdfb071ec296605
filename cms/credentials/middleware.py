from urllib.parse import urlencode

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from cms.views import permission_denied

from . import services, session_expiry

# django-otp-webauthn's own ceremony endpoints; the site serves throttled, recorded
# versions of them inside the login flow and the account security page instead.
PACKAGE_CEREMONY_PREFIXES = ("/webauthn/registration/", "/webauthn/authentication/")
ALWAYS_OPEN_PREFIXES = ("/healthz", "/favicon.ico")


class SecondFactorMiddleware:
    """Requires a verified second factor for the roles in OTP_REQUIRED_ROLES and for
    every user who has enrolled a device.

    A signed-in user whose session is not verified may reach only the login steps and
    logout, plus the account security page when there is no device yet to verify with
    (a required role enrols before anything else). It also keeps the one login form
    (Wagtail's own admin login would skip throttling), keeps the credential
    administration to holders of cms.manage_accounts, and forgets the signed-in
    marker (see session_expiry) at logout.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = self.refuse(request)
        if refusal is not None:
            return refusal
        response = self.get_response(request)
        if getattr(request, "credentials_signed_out", False):
            session_expiry.forget(response)
        return response

    def refuse(self, request):
        path = request.path_info
        if path.startswith(PACKAGE_CEREMONY_PREFIXES):
            return JsonResponse(
                {"detail": "请通过本系统的登录页或账户安全页使用安全密钥。", "code": "not_here"},
                status=404,
            )
        if path == reverse("wagtailadmin_login"):
            return redirect(_with_next(reverse("login"), request.GET.get("next", "")))
        user = request.user
        if not user.is_authenticated:
            return None
        services.drop_revoked_verification(request)
        if not user.is_verified():
            gate = self.second_factor_gate(request, path)
            if gate is not None:
                return gate
        if path.startswith(_credentials_admin_prefix()) and not services.can_manage(user):
            return permission_denied(request)
        return None

    def second_factor_gate(self, request, path):
        if path.startswith((settings.STATIC_URL, *ALWAYS_OPEN_PREFIXES)):
            return None
        if path.startswith(reverse("login")) or path == reverse("logout"):
            return None
        state = services.second_factor_state(request.user)
        if state is None:
            return None
        if state == services.MUST_ENROL:
            if path.startswith(reverse("account_security")):
                return None
            return redirect("account_security")
        return redirect(_with_next(reverse("login_verify"), request.get_full_path()))


def _with_next(url, next_url):
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _credentials_admin_prefix():
    return reverse("credentials_admin:index")
