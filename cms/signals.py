from django.contrib.auth.models import Group

from .roles import ROLES, check_seat, check_seats_on_save, holds_seat


def enforce_seat_limits(sender, instance, action, pk_set, reverse, **kwargs):
    """Backstop for every path that adds a user to a role group, from either side of
    the relation (forms, imports, shell, code)."""
    if action != "pre_add" or not pk_set:
        return
    if reverse:  # group.user_set.add(...): several accounts may claim seats at once
        if instance.name not in ROLES:
            return
        from django.contrib.auth import get_user_model

        users = get_user_model().objects.filter(pk__in=pk_set, is_active=True)
        newcomers = [u for u in users if not holds_seat(instance.name, u)]
        check_seat(instance.name, None, newcomers=len(newcomers))
        return
    if not instance.is_active:
        return
    for name in Group.objects.filter(pk__in=pk_set, name__in=ROLES).values_list("name", flat=True):
        check_seat(name, instance)


def enforce_seats_on_save(sender, instance, raw=False, **kwargs):
    """Activation and the superuser flag claim seats too (issue 14, found item 3)."""
    check_seats_on_save(instance)
