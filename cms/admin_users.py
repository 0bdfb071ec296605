"""Wagtail's user admin, extended with our fields and the seat limit per role."""

from django import forms
from wagtail.users.forms import UserCreationForm, UserEditForm
from wagtail.users.views.users import UserViewSet as WagtailUserViewSet

from .roles import ADMIN, ROLES, SeatLimitReached, check_seat

EXTRA_FIELDS = ("display_name", "organisation", "phone")


class SeatLimitMixin:
    """Seats in the admin's user forms: roles ticked, the 管理员 (superuser) box and
    re-activation all claim seats, refused here with the form's own error message; the
    model signals (cms.signals) refuse the same on every other path."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # accounts are named by 姓名 (display_name); demo and imported accounts have no
        # separate given/family names, and saving them must not fail on that
        for name in ("first_name", "last_name"):
            if name in self.fields:
                self.fields[name].required = False

    def clean(self):
        cleaned = super().clean()
        user = self.instance if self.instance.pk else None
        is_active = cleaned.get("is_active", user.is_active if user else True)
        if not is_active:
            return cleaned
        groups = cleaned.get("groups")
        if groups is not None:
            claimed = [g.name for g in groups if g.name in ROLES]
        elif user is not None:
            claimed = [n for n in user.groups.values_list("name", flat=True) if n in ROLES]
        else:
            claimed = []
        if cleaned.get("is_superuser") and ADMIN not in claimed:
            claimed.append(ADMIN)
        for role in claimed:
            try:
                check_seat(role, user)
            except SeatLimitReached as exc:
                self.add_error("groups" if "groups" in self.fields else None, exc)
        return cleaned


class CountyUserCreationForm(SeatLimitMixin, UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = UserCreationForm.Meta.fields | set(EXTRA_FIELDS)


class CountyUserEditForm(SeatLimitMixin, UserEditForm):
    class Meta(UserEditForm.Meta):
        fields = UserEditForm.Meta.fields | set(EXTRA_FIELDS)


for form in (CountyUserCreationForm, CountyUserEditForm):
    for name in EXTRA_FIELDS:
        form.base_fields.setdefault(name, forms.CharField(required=False))


class UserViewSet(WagtailUserViewSet):
    def get_form_class(self, for_update=False):
        return CountyUserEditForm if for_update else CountyUserCreationForm
