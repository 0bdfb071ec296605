from django.contrib.auth.models import Group

from .roles import ROLES, check_seat


def enforce_seat_limits(sender, instance, action, pk_set, reverse, **kwargs):
    """Backstop for every path that adds a user to a role group (forms, shell, code)."""
    if action != "pre_add" or not pk_set:
        return
    if reverse:  # group.user_set.add(...)
        if instance.name not in ROLES:
            return
        from django.contrib.auth import get_user_model

        for user in get_user_model().objects.filter(pk__in=pk_set, is_active=True):
            check_seat(instance.name, user)
        return
    if not instance.is_active:
        return
    for name in Group.objects.filter(pk__in=pk_set, name__in=ROLES).values_list("name", flat=True):
        check_seat(name, instance)
