"""Login throttling (登录失败限制).

Every password or code check runs inside ``guard``: one transaction that first locks
the counters of the account and of the client address, then checks the wait, runs the
check, and counts a failure, so simultaneous guesses are counted one after another
(no check-then-act race). The rules:

- failures are counted per account (only accounts that exist: a made-up username never
  touches a real account) and per client address (the real client behind the trusted
  proxies, see cms.usage.services.client_address);
- from the LOGIN_FAILURE_LIMIT-th failure on, the next attempt must wait
  LOGIN_DELAY_SECONDS, doubled for each further failure and capped at
  LOGIN_FAILURE_WINDOW_MINUTES: a growing delay, never a lock that stays shut;
- a successful login clears the account's counter (not the address's);
- failures are forgotten LOGIN_FAILURE_MEMORY_HOURS after the latest;
- every start of a wait (限制) and every end (解除) writes a usage record.
"""

import hashlib
import math
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from cms.usage.services import UsageAction, client_address, record_usage

from . import conf
from .models import LoginThrottle

GUARD_ATTRIBUTE = "_credentials_guarded"


@dataclass
class Throttle:
    seconds_left: float

    @property
    def minutes_left(self) -> int:
        return max(1, math.ceil(self.seconds_left / 60))

    @property
    def message(self) -> str:
        return f"登录失败次数过多，请 {self.minutes_left} 分钟后再试。"


def delay_after(failures: int) -> timedelta | None:
    """The wait after *failures* consecutive failures, or None below the limit."""
    limit = conf.login_failure_limit()
    if failures < limit:
        return None
    cap = conf.login_failure_window_minutes() * 60
    exponent = min(failures - limit, 30)
    return timedelta(seconds=min(cap, conf.login_delay_seconds() * 2**exponent))


def account_for(username: str):
    User = get_user_model()
    if not username:
        return None
    return User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()


def keys_for(user, address) -> list[str]:
    keys = []
    if user is not None:
        keys.append(f"account:{user.pk}")
    if address:
        keys.append(f"address:{address}")
    return keys


def _describe(key: str) -> str:
    kind, _, value = key.partition(":")
    if kind == "account":
        user = get_user_model()._default_manager.filter(pk=value).first()
        return f"账户“{user.get_username() if user else value}”"
    return f"地址 {value}"


def _serialize(keys) -> None:
    """Hold the keys' lock until the transaction ends. SQLite transactions here start
    IMMEDIATE (settings), which already serialises writers; PostgreSQL takes advisory
    transaction locks, in a fixed order so two guards never deadlock."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted(keys):
            number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [number])


def _rows(keys, now):
    rows = []
    memory = timedelta(hours=conf.login_failure_memory_hours())
    for key in keys:
        row, _ = LoginThrottle.objects.select_for_update().get_or_create(key=key)
        if row.failures and row.last_failure_at and row.last_failure_at < now - memory:
            row.failures = 0
        rows.append(row)
    return rows


def _release_expired(request, rows, now, username):
    """A wait that has run out ends here, and the end is recorded."""
    for row in rows:
        if row.locked and (row.delayed_until is None or row.delayed_until <= now):
            row.locked = False
            row.save(update_fields=["locked", "failures"])
            record_usage(
                request,
                UsageAction.LOGIN_UNLOCKED,
                username=username[:150],
                detail=f"登录限制解除：{_describe(row.key)}（等待期已满）",
            )


def _refusal(rows, now) -> Throttle | None:
    waits = [(r.delayed_until - now).total_seconds() for r in rows if r.locked and r.delayed_until]
    waits = [w for w in waits if w > 0]
    return Throttle(seconds_left=max(waits)) if waits else None


def _count_failure(request, rows, now, username):
    for row in rows:
        row.failures += 1
        row.last_failure_at = now
        delay = delay_after(row.failures)
        if delay is not None:
            row.delayed_until = now + delay
            row.locked = True
            record_usage(
                request,
                UsageAction.LOGIN_LOCKED,
                username=username[:150],
                detail=(
                    f"登录限制：{_describe(row.key)}连续失败 {row.failures} 次，"
                    f"须等待 {math.ceil(delay.total_seconds() / 60)} 分钟"
                ),
            )
        row.save()


def _clear_account(request, rows, username):
    for row in rows:
        if not row.key.startswith("account:"):
            continue
        was_locked = row.locked
        row.failures = 0
        row.locked = False
        row.delayed_until = None
        row.save()
        if was_locked:
            record_usage(
                request,
                UsageAction.LOGIN_UNLOCKED,
                username=username[:150],
                detail=f"登录限制解除：{_describe(row.key)}（登录成功）",
            )


@dataclass
class Attempt:
    """What ``guard`` yields: the refusal in force, and where the check reports."""

    refused: Throttle | None
    succeeded: bool = False
    failed: bool = False


@contextmanager
def guard(request, username: str, user=None, clear_on_success=True):
    """Run one password or code check under the throttle.

    Usage::

        with throttle.guard(request, username) as attempt:
            if attempt.refused: ...refuse...
            else: ...check; set attempt.succeeded or attempt.failed...
    """
    address = client_address(request)
    with transaction.atomic():
        if user is None:
            user = account_for(username)
        keys = keys_for(user, address)
        _serialize(keys)
        now = timezone.now()
        rows = _rows(keys, now)
        _release_expired(request, rows, now, username)
        attempt = Attempt(refused=_refusal(rows, now))
        if attempt.refused is None and request is not None:
            setattr(request, GUARD_ATTRIBUTE, True)
        try:
            yield attempt
        finally:
            if request is not None:
                setattr(request, GUARD_ATTRIBUTE, False)
        if attempt.failed:
            _count_failure(request, rows, timezone.now(), username)
        elif attempt.succeeded and clear_on_success:
            _clear_account(request, rows, username)


def check(username: str = "", ip_address: str | None = None, now=None) -> Throttle | None:
    """The wait in force for this username or address, or None (read only)."""
    now = now or timezone.now()
    keys = keys_for(account_for(username), ip_address)
    rows = list(LoginThrottle.objects.filter(key__in=keys))
    return _refusal(rows, now)


def note_failure(request, user) -> None:
    """A failure found outside ``guard`` (a security key's signature refused)."""
    with transaction.atomic():
        keys = keys_for(user, client_address(request))
        _serialize(keys)
        now = timezone.now()
        _count_failure(request, _rows(keys, now), now, user.get_username())


def is_guarded(request) -> bool:
    return bool(request is not None and getattr(request, GUARD_ATTRIBUTE, False))
