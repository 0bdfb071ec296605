"""Wagtail's user admin, extended with our fields and the seat limit per role."""

from django import forms
from wagtail.users.forms import UserCreationForm, UserEditForm
from wagtail.users.views.users import UserViewSet as WagtailUserViewSet

from .roles import ROLES, SeatLimitReached, check_seat

EXTRA_FIELDS = ("display_name", "organisation", "phone")


class SeatLimitMixin:
    def clean(self):
        cleaned = super().clean()
        groups = cleaned.get("groups")
        is_active = cleaned.get("is_active", True)
        if groups is not None and is_active:
            user = self.instance if self.instance.pk else None
            for group in groups:
                if group.name in ROLES:
                    try:
                        check_seat(group.name, user)
                    except SeatLimitReached as exc:
                        self.add_error("groups", exc)
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
