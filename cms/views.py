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
