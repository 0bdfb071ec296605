import pytest
from django.template import Context, Template
from django.test import RequestFactory

from cms.personal import HIDDEN, personal_value, public_dict, searchable_text

pytestmark = pytest.mark.django_db


def render_phone(reader, person):
    request = RequestFactory().get("/")
    request.user = reader
    return Template('{% load personal %}{% personal person "phone" %}').render(
        Context({"request": request, "person": person})
    )


def test_only_system_administrator_receives_personal_details(
    admin_user_role, staff_user, deputy_user, archivist_user, liaison_user, make_user
):
    person = make_user(username="person", phone="13800001111", organisation="县财政局")
    assert personal_value(admin_user_role, person, "phone") == "13800001111"
    assert render_phone(admin_user_role, person) == "13800001111"
    for reader in (staff_user, deputy_user, archivist_user, liaison_user):
        assert personal_value(reader, person, "phone") == HIDDEN
        assert "13800001111" not in render_phone(reader, person)
        assert "phone" not in public_dict(reader, person, ["username", "phone"])
    assert public_dict(admin_user_role, person, ["phone"]) == {"phone": "13800001111"}
    assert "13800001111" not in searchable_text(person, ["username", "phone"])
