from django.http import JsonResponse
from django.shortcuts import render

from .usage.services import UsageAction, record_usage


def healthz(request):
    from .tasks import last_heartbeat

    beat = last_heartbeat()
    return JsonResponse({"status": "ok", "worker_heartbeat": beat["at"] if beat else None})


def permission_denied(request, exception=None):
    record_usage(request, UsageAction.DENIED, detail=f"拒绝访问 {request.path}")
    return render(
        request,
        "cms/error.html",
        {
            "title": "无权访问",
            "message": "您的角色无权查看或操作此页面。如需权限，请联系系统管理员。",
        },
        status=403,
    )


def page_not_found(request, exception=None):
    return render(
        request,
        "cms/error.html",
        {"title": "页面不存在", "message": "您要找的页面不存在或已被移除。"},
        status=404,
    )


def csrf_failure(request, reason=""):
    record_usage(request, UsageAction.DENIED, detail="请求缺少有效的安全令牌（CSRF）")
    return render(
        request,
        "cms/error.html",
        {
            "title": "请求未通过安全校验",
            "message": "页面已过期或请求缺少安全令牌，请刷新页面后重试。",
        },
        status=403,
    )


def other_login(request, *args, **kwargs):
    """Wagtail's own login forms (/admin/login/, /_util/login/): the one login page instead."""
    from urllib.parse import urlencode

    from django.shortcuts import redirect
    from django.urls import reverse
    from django.utils.http import url_has_allowed_host_and_scheme

    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    target = reverse("login")
    return redirect(f"{target}?{urlencode({'next': next_url})}" if next_url else target)


def no_such_way_in(request, *args, **kwargs):
    """Ways in this system does not have: e-mailed password resets (accounts are reset by
    the system administrator) and Wagtail's per-page passwords."""
    record_usage(request, UsageAction.DENIED, detail=f"不存在的登录方式 {request.path}")
    return page_not_found(request)


def server_error(request):
    return render(
        request,
        "cms/error.html",
        {
            "title": "服务器错误",
            "message": "系统出现内部错误，已记录。请稍后重试或联系系统管理员。",
        },
        status=500,
    )


def bad_request(request, exception=None):
    return render(
        request,
        "cms/error.html",
        {"title": "请求有误", "message": "请求无法处理，请检查网址或重新提交。"},
        status=400,
    )
