"""A user of one role opening another role's URLs is refused, in Chinese, and it is recorded."""

import pytest

from cms import roles
from cms.usage.models import UsageAction, UsageRecord

pytestmark = pytest.mark.django_db

# URL → roles that may open it. Everything else must be refused.
RESTRICTED = {
    "/admin/": {roles.ADMIN, roles.STAFF, roles.ARCHIVIST},
    "/admin/users/": {roles.ADMIN},
    "/admin/credentials/": {roles.ADMIN},
    "/usage/records/": {roles.ADMIN, roles.ARCHIVIST},
    "/usage/exports/": {roles.ADMIN, roles.ARCHIVIST},
}


@pytest.mark.parametrize("role", roles.ROLES)
@pytest.mark.parametrize("url", list(RESTRICTED))
def test_role_urls(client, make_user, role, url):
    user = make_user(role, is_superuser=(role == roles.ADMIN))
    client.force_login(user)
    response = client.get(url)
    if role in RESTRICTED[url]:
        assert response.status_code == 200, f"{role} should open {url}"
        return
    # refused: a 403 page in Chinese, or Wagtail's redirect away from the area
    assert response.status_code in (302, 403), f"{role} must not open {url}"
    if response.status_code == 403:
        body = response.content.decode()
        assert "无权" in body
        assert UsageRecord.objects.filter(user=user, action=UsageAction.DENIED).exists()
    else:
        assert url not in response["Location"]


def test_anonymous_is_sent_to_login_everywhere(client):
    for url in ["/", "/search/?q=预算", "/inbox/", "/calendar/", "/policies/", *RESTRICTED]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/accounts/login/" in response["Location"], url


def test_nothing_leaks_in_a_refusal(client, make_user):
    make_user(roles.ADMIN, username="secretadmin", phone="13912345678", is_superuser=True)
    deputy = make_user(roles.DEPUTY)
    client.force_login(deputy)
    for url in ["/admin/users/", "/usage/records/", "/admin/credentials/"]:
        body = client.get(url, follow=True).content.decode()
        assert "13912345678" not in body
        assert "secretadmin" not in body
