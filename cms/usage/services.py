"""Writing usage records (使用记录). Every module calls these; nothing else creates
UsageRecord rows.

- ``record_usage(request, action, obj=None, detail="", user=None, username="")`` — one row
  of any UsageAction.
- ``record_restricted_view(request, obj, detail="")`` — call it in a view that shows
  restricted material (a deputy's personal details, query data not yet public …) after the
  access check has passed; it writes one ``view_restricted`` row naming the object. Views
  may instead wear the decorator ``cms.usage.decorators.records_restricted_view``.
- ``acting_user_and_name()`` — who is acting now: the user of the current request, or
  (None, "系统") for migrations, commands and background tasks.
"""

import ipaddress

from django.conf import settings

from .middleware import current_request
from .models import UsageAction, UsageRecord

SYSTEM_ACTOR = "系统"


def _trusted(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in networks)


def trusted_proxy_networks():
    networks = []
    for entry in getattr(settings, "TRUSTED_PROXIES", []) or []:
        networks.append(ipaddress.ip_network(entry.strip(), strict=False))
    return networks


def client_address(request):
    """The client's address. X-Forwarded-For is believed only when the connection comes
    from one of settings.TRUSTED_PROXIES, and then read from the right: the first hop
    that is not a trusted proxy is the client (anything left of it the client wrote)."""
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    networks = trusted_proxy_networks()
    if not remote or not networks or not _trusted(remote, networks):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # a malformed hop: fall back to the proxy itself
    return remote


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
        object_type=str(obj._meta.verbose_name if obj is not None else "")[:100],
        object_id=str(getattr(obj, "pk", "") or "")[:64],
        object_repr=(str(obj)[:300] if obj is not None else ""),
        detail=detail,
    )


def record_restricted_view(request, obj, detail: str = ""):
    """查看受限材料: record that the request's user saw *obj* (once per request)."""
    record = record_usage(request, UsageAction.VIEW_RESTRICTED, obj=obj, detail=detail)
    if request is not None:
        request._usage_restricted_view_recorded = True
    return record


def acting_user_and_name():
    """The user behind the current request, or (None, "系统") when there is none."""
    request = current_request()
    user = getattr(request, "user", None) if request is not None else None
    if user is not None and user.is_authenticated:
        return user, user.get_username()
    return None, SYSTEM_ACTOR


__all__ = [
    "record_usage",
    "record_restricted_view",
    "acting_user_and_name",
    "UsageAction",
    "SYSTEM_ACTOR",
]
