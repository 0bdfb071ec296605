from base64 import b32encode
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from . import services, session_expiry
from .forms import CodeForm, LoginForm, TotpConfirmForm
from .qr import qr_svg
from .webauthn_views import webauthn_configuration

AFTER_ENROL_SESSION_KEY = "credentials_after_enrol"
NEW_CODES_SESSION_KEY = "credentials_new_backup_codes"


def _safe_next(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request):
    """Step one: username and password."""
    next_url = _safe_next(request)
    timed_out = request.method == "GET" and session_expiry.session_ended(request)
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user, error = services.authenticate_password(
            request, form.cleaned_data["username"], form.cleaned_data["password"]
        )
        if user is not None:
            auth_login(request, user)
            state = services.second_factor_state(user)
            if state == services.MUST_VERIFY:
                target = _with_next(reverse("login_verify"), next_url)
            elif state == services.MUST_ENROL:
                request.session[AFTER_ENROL_SESSION_KEY] = next_url
                target = reverse("account_security")
            else:
                target = next_url or resolve_url(settings.LOGIN_REDIRECT_URL)
            response = redirect(target)
            session_expiry.mark_signed_in(response)
            return response
        form.add_error(None, error)
    response = render(
        request,
        "registration/login.html",
        {
            "form": form,
            "next": next_url,
            "timed_out_message": services.SESSION_TIMED_OUT if timed_out else "",
        },
    )
    if timed_out:
        session_expiry.forget(response)
    return response


@csrf_protect
@never_cache
def verify_view(request):
    """Step two: a security key, a TOTP code or a backup code."""
    if not request.user.is_authenticated:
        return redirect(_with_next(reverse("login"), _safe_next(request)))
    next_url = _safe_next(request)
    done_url = next_url or resolve_url(settings.LOGIN_REDIRECT_URL)
    if request.user.is_verified():
        return redirect(done_url)
    state = services.second_factor_state(request.user)
    if state == services.MUST_ENROL:
        return redirect("account_security")
    if state is None:
        return redirect(done_url)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, error = services.verify_code(request, form.cleaned_data["code"])
        if device is not None:
            return redirect(done_url)
        form.add_error(None, error)
    devices = services.active_devices(request.user)
    kinds = {services.device_kind(d) for d in devices}
    has_keys = services.security_keys(request.user).exists()
    return render(
        request,
        "credentials/login_verify.html",
        {
            "form": form,
            "next": next_url,
            "has_keys": has_keys,
            "has_codes": bool(kinds & {services.KIND_TOTP, services.KIND_BACKUP}),
            "webauthn_config": webauthn_configuration(request) if has_keys else None,
        },
    )


def _device_rows(user):
    rows = []
    for device in services.active_devices(user):
        kind = services.device_kind(device)
        rows.append(
            {
                "key": device.persistent_id,
                "kind": services.KIND_LABELS[kind],
                "name": device.name,
                "description": services.describe(device),
                "remaining": device.token_set.count() if kind == services.KIND_BACKUP else None,
                "created_at": getattr(device, "created_at", None),
                "last_used_at": getattr(device, "last_used_at", None),
            }
        )
    return rows


@never_cache
def security_view(request):
    """账户安全: the user's own devices and their enrolment."""
    user = request.user
    after_enrol = request.session.get(AFTER_ENROL_SESSION_KEY)
    if after_enrol is not None and user.is_verified():
        del request.session[AFTER_ENROL_SESSION_KEY]
        if after_enrol:
            return redirect(after_enrol)
    pending = services.pending_totp(user)
    return render(
        request,
        "credentials/security.html",
        {
            "devices": _device_rows(user),
            "revoked": services.revoked_devices(user),
            "must_enrol": not user.is_verified()
            and services.second_factor_state(user) == services.MUST_ENROL,
            "required": services.role_requires_second_factor(user),
            "pending_totp": pending,
            "pending_qr": qr_svg(pending.config_url) if pending else "",
            "pending_secret": _grouped_secret(pending) if pending else "",
            "totp_form": TotpConfirmForm(),
            "new_codes": request.session.pop(NEW_CODES_SESSION_KEY, None),
            "can_make_codes": bool(services.primary_devices(user)),
            "webauthn_config": webauthn_configuration(request),
        },
    )


def _grouped_secret(device) -> str:
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@require_POST
def totp_start_view(request):
    services.start_totp_enrolment(request.user)
    messages.info(
        request, "请用手机上的身份验证器应用扫描二维码，再输入应用显示的六位数字完成登记。"
    )
    return redirect(reverse("account_security") + "#totp")


@require_POST
def totp_confirm_view(request):
    form = TotpConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请输入六位动态口令。")
        return redirect(reverse("account_security") + "#totp")
    try:
        services.confirm_totp(request, form.cleaned_data["code"])
    except services.CredentialError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("account_security") + "#totp")
    messages.success(request, "动态口令已登记，下次登录时可用它完成第二步验证。")
    return redirect("account_security")


@require_POST
def backup_codes_view(request):
    try:
        codes = services.generate_backup_codes(request)
    except services.CredentialError as exc:
        messages.error(request, exc.message)
    else:
        request.session[NEW_CODES_SESSION_KEY] = codes
    return redirect(reverse("account_security") + "#backup")


@require_POST
def remove_device_view(request):
    try:
        services.remove_own_device(request, request.POST.get("device", ""))
    except services.CredentialError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "凭证已删除。")
    return redirect("account_security")
