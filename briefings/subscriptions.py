"""Readers choose which kinds of working material reach them, and how (站内消息, 电子邮件).

Each (reader, material type, channel) is one MaterialSubscription whose status moves only
through TRANSITIONS below; every change writes a SubscriptionEvent. Who may choose what:

- readers with ``cms.query_data`` (工作人员, 代表/专家, 档案员, 系统管理员) may choose every
  active kind: they may read every briefing and every department upload;
- 人大代表 (every deputy's own account) may choose the routine briefings of the office
  (季度简报, 半年简报, 年报): choosing one puts the deputy on the default 印送 of the next
  issues, which is what lets the deputy read them;
- everybody else (部门联络员, accounts without a role) is refused.

Delivery (``deliver``) sends one notice per reader through the channels chosen: both, the
inbox only, or e-mail only (``notify(..., inbox=False)``: not shown in the inbox).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cms import roles
from cms.notifications.services import notify

from .choices import Cadence, MaterialKind, SubscriptionChannel, SubscriptionStatus
from .models import READ_PERMISSION, MaterialSubscription, MaterialType, SubscriptionEvent

SUBSCRIBED = SubscriptionStatus.SUBSCRIBED
UNSUBSCRIBED = SubscriptionStatus.UNSUBSCRIBED

# status → {target: action label}: the one table of allowed changes
TRANSITIONS = {
    UNSUBSCRIBED: {SUBSCRIBED: "订阅"},
    SUBSCRIBED: {UNSUBSCRIBED: "退订"},
}

# The briefings a deputy's own account may choose: the routine ones whose default 印送 takes
# their subscribers (special reports go to a list chosen per report, domain.md §5).
ROUTINE_CADENCES = (Cadence.QUARTERLY, Cadence.HALF_YEAR, Cadence.ANNUAL)


def reads_all_materials(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(READ_PERMISSION))


def may_subscribe(user) -> bool:
    """Whether *user* may choose materials at all (the page refuses everyone else)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return reads_all_materials(user) or roles.has_role(user, roles.DEPUTY_MEMBER)


def offered_types(user):
    """The kinds of material *user* may subscribe to."""
    if not may_subscribe(user):
        return MaterialType.objects.none()
    types = MaterialType.objects.filter(is_active=True)
    if reads_all_materials(user):
        return types
    return types.filter(kind=MaterialKind.BRIEFING, cadence__in=ROUTINE_CADENCES)


def _require(user, material_type: MaterialType) -> None:
    if not may_subscribe(user):
        raise PermissionDenied("您的角色无权订阅工作资料。")
    if not offered_types(user).filter(pk=material_type.pk).exists():
        raise PermissionDenied(f"您不能订阅“{material_type.name}”。")


@transaction.atomic
def change(user, material_type: MaterialType, channel: str, target: str) -> MaterialSubscription:
    """Subscribe (target SUBSCRIBED) or unsubscribe *user* to *material_type* on *channel*.

    Only the reader himself or herself changes a choice (views pass request.user). Raises
    PermissionDenied for a role or kind that is not allowed and ValidationError for a change
    the table does not allow (subscribing twice, unsubscribing what was never chosen).
    Withdrawing is always allowed, also from a kind no longer offered to the reader."""
    if target == SUBSCRIBED:
        _require(user, material_type)
    if channel not in SubscriptionChannel.values:
        raise ValidationError(f"未知的渠道“{channel}”。")
    if target not in TRANSITIONS:
        raise ValidationError(f"未知的状态“{target}”。")
    subscription, _ = MaterialSubscription.objects.get_or_create(
        user=user, material_type=material_type, channel=channel
    )
    subscription = MaterialSubscription.objects.select_for_update().get(pk=subscription.pk)
    current = SubscriptionStatus(subscription.status)
    action = TRANSITIONS[current].get(target)
    if action is None:
        raise ValidationError(
            f"“{material_type.name}”的{subscription.get_channel_display()}当前为"
            f"“{current.label}”，不能改为“{SubscriptionStatus(target).label}”。"
        )
    subscription.status = target
    subscription.changed_at = timezone.now()
    subscription.save(update_fields=["status", "changed_at"])
    SubscriptionEvent.objects.create(
        subscription=subscription,
        actor=user,
        actor_name=user.get_username(),
        action=action,
        from_status=current,
        to_status=target,
        note=f"{material_type.name} · {subscription.get_channel_display()}",
    )
    return subscription


def subscribe(user, material_type, channel) -> MaterialSubscription:
    return change(user, material_type, channel, SUBSCRIBED)


def unsubscribe(user, material_type, channel) -> MaterialSubscription:
    return change(user, material_type, channel, UNSUBSCRIBED)


def choices_of(user) -> set[tuple[int, str]]:
    """(material type id, channel) pairs *user* is subscribed to now."""
    return set(
        MaterialSubscription.objects.filter(user=user, status=SUBSCRIBED).values_list(
            "material_type_id", "channel"
        )
    )


@transaction.atomic
def set_choices(user, wanted: Iterable[tuple[int, str]]) -> tuple[int, int]:
    """Make *user*'s subscriptions exactly *wanted* (pairs of type id and channel), one
    transition per difference. Returns (subscribed, unsubscribed) counts. A pair outside the
    kinds offered to *user* is refused as a whole (nothing changes)."""
    if not may_subscribe(user):
        raise PermissionDenied("您的角色无权订阅工作资料。")
    types = {t.pk: t for t in offered_types(user)}
    wanted, current = set(wanted), choices_of(user)
    for type_id, channel in wanted - current:
        if type_id not in types or channel not in SubscriptionChannel.values:
            raise PermissionDenied("所选资料类型不在您可订阅的范围内。")
    added = removed = 0
    for type_id, channel in sorted(wanted - current):
        subscribe(user, types[type_id], channel)
        added += 1
    for type_id, channel in sorted(current - wanted):
        # a kind no longer offered (deactivated, or the role changed) can still be left
        unsubscribe(user, types.get(type_id) or MaterialType.objects.get(pk=type_id), channel)
        removed += 1
    return added, removed


# --- who gets what ------------------------------------------------------------------------


def channels_by_reader(material_type: MaterialType) -> dict:
    """Active readers subscribed to *material_type* → the set of channels they chose.
    Readers who may no longer choose it (role changed) are left out."""
    rows = MaterialSubscription.objects.filter(
        material_type=material_type, status=SUBSCRIBED, user__is_active=True
    ).values_list("user_id", "channel")
    chosen = defaultdict(set)
    for user_id, channel in rows:
        chosen[user_id].add(channel)
    users = get_user_model().objects.filter(pk__in=chosen)
    offered = {}
    for user in users:
        if offered_types(user).filter(pk=material_type.pk).exists():
            offered[user] = frozenset(chosen[user.pk])
    return offered


def subscribed_readers(material_type: MaterialType) -> list:
    """Everyone subscribed to *material_type* on at least one channel (for the 印送 list)."""
    return sorted(channels_by_reader(material_type), key=lambda u: u.pk)


def deliver(readers: dict, subject: str, *, body: str = "", url: str = "", category="") -> int:
    """Send one notice to each reader through the channels chosen (*readers*: user → set of
    channels, as from channels_by_reader, possibly filtered). Returns how many readers."""
    both, inbox_only, email_only = [], [], []
    for user, channels in readers.items():
        wants_inbox = SubscriptionChannel.INBOX in channels
        wants_email = SubscriptionChannel.EMAIL in channels
        if wants_inbox and wants_email:
            both.append(user)
        elif wants_inbox:
            inbox_only.append(user)
        elif wants_email:
            email_only.append(user)
    sent = 0
    common = {"body": body, "url": url, "category": category}
    sent += len(notify(both, subject, email=True, inbox=True, **common))
    sent += len(notify(inbox_only, subject, email=False, inbox=True, **common))
    sent += len(notify(email_only, subject, email=True, inbox=False, **common))
    return sent
