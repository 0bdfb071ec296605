"""Writing usage records (使用记录). Every module calls record_usage; nothing else
creates UsageRecord rows."""

from .models import UsageAction, UsageRecord


def client_address(request):
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record_usage(request, action: str, obj=None, detail: str = "", user=None, username: str = ""):
    if user is None and request is not None:
        candidate = getattr(request, "user", None)
        if candidate is not None and candidate.is_authenticated:
            user = candidate
    return UsageRecord.objects.create(
        user=user,
        username=username or (user.get_username() if user else ""),
        action=action,
        ip_address=client_address(request),
        path=(request.get_full_path()[:500] if request is not None else ""),
        object_type=(obj._meta.verbose_name if obj is not None else "")[:100],
        object_id=str(getattr(obj, "pk", "") or "")[:64],
        object_repr=(str(obj)[:300] if obj is not None else ""),
        detail=detail,
    )


__all__ = ["record_usage", "UsageAction"]
