"""Login throttling (登录失败限制), counted from the usage log itself: N failed
attempts for one username, or from one address, within M minutes close the door
for the rest of that window, whatever the next password is."""

import math
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from cms.usage.models import UsageAction, UsageRecord

from . import conf


@dataclass
class Throttle:
    minutes_left: int

    @property
    def message(self) -> str:
        return f"登录失败次数过多，请 {self.minutes_left} 分钟后再试。"


def _reopens_at(failure_times, limit, window):
    """Failures are newest first; the door reopens when the limit-th newest ages out."""
    if len(failure_times) < limit:
        return None
    return failure_times[limit - 1] + window


def check(username: str = "", ip_address: str | None = None, now=None) -> Throttle | None:
    """The throttle in force for this username or address, or None."""
    limit = conf.login_failure_limit()
    window = timedelta(minutes=conf.login_failure_window_minutes())
    now = now or timezone.now()
    recent = UsageRecord.objects.filter(
        action=UsageAction.LOGIN_FAILED, created_at__gt=now - window
    ).order_by("-created_at")
    reopen = []
    if username:
        times = list(
            recent.filter(username__iexact=username).values_list("created_at", flat=True)[:limit]
        )
        reopen.append(_reopens_at(times, limit, window))
    if ip_address:
        times = list(
            recent.filter(ip_address=ip_address).values_list("created_at", flat=True)[:limit]
        )
        reopen.append(_reopens_at(times, limit, window))
    reopen = [t for t in reopen if t is not None and t > now]
    if not reopen:
        return None
    seconds = (max(reopen) - now).total_seconds()
    return Throttle(minutes_left=max(1, math.ceil(seconds / 60)))
