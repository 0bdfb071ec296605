"""The module navigation shows each role only the modules it may use, and marks one entry."""

from django.test import RequestFactory

from cms import roles
from cms.nav import nav_for


def _nav(user, path="/"):
    request = RequestFactory().get(path)
    request.user = user
    return nav_for(request)


def test_staff_sees_the_office_modules(staff_user):
    labels = [item.label for item in _nav(staff_user)]
    for label in ("全文检索", "政策法规", "预算数据", "代表建议", "工作资料"):
        assert label in labels


def test_liaison_does_not_see_budget_wide_or_archive_modules(liaison_user):
    labels = [item.label for item in _nav(liaison_user)]
    assert "立卷归档" not in labels
    assert "建议分析" not in labels


def test_longest_matching_address_is_current(staff_user):
    items = _nav(staff_user, "/suggestions/insights/stats/")
    current = [item.label for item in items if item.current]
    assert current == ["建议分析"]


def test_anonymous_gets_no_navigation(db):
    from django.contrib.auth.models import AnonymousUser

    assert _nav(AnonymousUser()) == []


def test_archivist_sees_archive(make_user):
    archivist = make_user(roles.ARCHIVIST)
    assert "立卷归档" in [item.label for item in _nav(archivist)]
