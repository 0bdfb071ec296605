"""Wagtail's user admin, extended with our fields and the seat limit per role."""

from django import forms
from django.utils.functional import cached_property
from wagtail.admin.ui.tables import Column
from wagtail.users.forms import UserCreationForm, UserEditForm
from wagtail.users.views.users import IndexView as WagtailUserIndexView
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
    # Accounts are named by 姓名 (display_name); the demo and the command that creates
    # accounts leave 名/姓 empty, so requiring them made every such account unsaveable.
    form.base_fields["first_name"] = forms.CharField(required=False, label="名", max_length=150)
    form.base_fields["last_name"] = forms.CharField(required=False, label="姓", max_length=150)


def role_names(user) -> str:
    names = [g.name for g in user.groups.all() if g.name in ROLES]
    return "、".join(names) or "（无角色）"


class UserIndexView(WagtailUserIndexView):
    """The user list with each account's role (角色) next to its name."""

    def get_base_queryset(self):
        return super().get_base_queryset().prefetch_related("groups")

    @cached_property
    def columns(self):
        columns = list(super().columns)
        role = Column("roles", accessor=role_names, label="角色", classname="role", width="15%")
        columns.insert(3, role)
        return columns


class UserViewSet(WagtailUserViewSet):
    index_view_class = UserIndexView

    def get_form_class(self, for_update=False):
        return CountyUserEditForm if for_update else CountyUserCreationForm
