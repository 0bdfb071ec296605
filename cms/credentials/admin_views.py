"""账户凭证: the system administrator's view of everyone's login credentials, with
revoke (吊销), report lost (挂失) and reset (重置)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from cms.roles import roles_of
from cms.views import permission_denied

from . import services
from .forms import ReasonForm
from .models import CredentialEvent


def _manager_only(view):
    def wrapped(request, *args, **kwargs):
        if not services.can_manage(request.user):
            return permission_denied(request)
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@_manager_only
def index(request):
    User = get_user_model()
    query = request.GET.get("q", "").strip()
    users = User.objects.order_by("username").prefetch_related("groups")
    if query:
        users = users.filter(
            Q(username__icontains=query)
            | Q(display_name__icontains=query)
            | Q(organisation__icontains=query)
        )
    rows = []
    for user in users:
        kinds = [services.device_kind(d) for d in services.active_devices(user)]
        rows.append(
            {
                "user": user,
                "roles": "、".join(roles_of(user)) or "—",
                "keys": kinds.count(services.KIND_KEY),
                "totp": kinds.count(services.KIND_TOTP),
                "backup": kinds.count(services.KIND_BACKUP),
                "revoked": services.revoked_devices(user).count(),
                "required": services.role_requires_second_factor(user),
            }
        )
    return TemplateResponse(
        request,
        "credentials/admin/index.html",
        {"page_title": "账户凭证", "header_icon": "key", "rows": rows, "query": query},
    )


@_manager_only
def user_detail(request, user_id):
    user = get_object_or_404(get_user_model(), pk=user_id)
    devices = []
    for device in services.active_devices(user):
        kind = services.device_kind(device)
        devices.append(
            {
                "key": device.persistent_id,
                "kind": services.KIND_LABELS[kind],
                "description": services.describe(device),
                "remaining": device.token_set.count() if kind == services.KIND_BACKUP else None,
                "last_used_at": getattr(device, "last_used_at", None),
            }
        )
    return TemplateResponse(
        request,
        "credentials/admin/user.html",
        {
            "page_title": f"账户凭证：{user}",
            "header_icon": "key",
            "account": user,
            "roles": "、".join(roles_of(user)) or "—",
            "devices": devices,
            "revoked": services.revoked_devices(user).select_related("revoked_by"),
            "events": CredentialEvent.objects.filter(user=user).select_related("actor")[:100],
            "reason_form": ReasonForm(),
        },
    )


def _act(request, user_id, action, success):
    user = get_object_or_404(get_user_model(), pk=user_id)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写原因。")
        return redirect("credentials_admin:user", user_id=user.pk)
    try:
        outcome = action(request, user, form.cleaned_data["reason"])
    except services.CredentialError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success(user, outcome))
    return redirect("credentials_admin:user", user_id=user.pk)


@require_POST
@_manager_only
def revoke(request, user_id):
    device_key = request.POST.get("device", "")
    return _act(
        request,
        user_id,
        lambda req, user, reason: services.revoke_device(req, user, device_key, reason),
        lambda user, text: f"已吊销 {user} 的{text}。",
    )


@require_POST
@_manager_only
def report_lost(request, user_id):
    return _act(
        request,
        user_id,
        services.report_lost,
        lambda user, count: f"已挂失：{user} 的 {count} 个安全密钥/动态口令已全部吊销。",
    )


@require_POST
@_manager_only
def reset(request, user_id):
    return _act(
        request,
        user_id,
        services.reset_devices,
        lambda user, count: f"已重置：{user} 的 {count} 个凭证已删除，该用户下次登录时需重新登记。",
    )
