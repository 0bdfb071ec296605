"""One way in (issue 14, found item 1): every view that checks a password is the
guarded login, or is shadowed by a view that sends people there, or does not exist."""

import functools
import inspect
import re

import pytest
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    CompleteCredentialAuthenticationView,
)
from wagtail import views as wagtail_views

from cms import views as cms_views
from cms.credentials import views as credential_views
from cms.credentials import webauthn_views
from cms.usage.models import UsageAction, UsageRecord

from .conftest import password_step

AUTHENTICATING_BASES = (
    auth_views.LoginView,
    auth_views.PasswordResetView,
    auth_views.PasswordResetConfirmView,
    BeginCredentialAuthenticationView,
    CompleteCredentialAuthenticationView,
)
AUTHENTICATING_SOURCE = re.compile(
    r"authenticate(_password)?\(|verify_code\(|AuthenticationForm|check_password\("
)

# the guarded views (they call cms.credentials.services, which runs the throttle)
GUARDED_VIEWS = (
    credential_views.login_view,
    credential_views.verify_view,
    webauthn_views.LoginKeyBeginView,
    webauthn_views.LoginKeyCompleteView,
)
# views that stand in front of other ways in
SHADOWS = {cms_views.other_login, cms_views.no_such_way_in}


def walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.callback


def view_of(callback):
    return getattr(callback, "view_class", None) or inspect.unwrap(callback)


def authenticates(callback) -> bool:
    return _authenticates(view_of(callback))


@functools.cache
def _authenticates(view) -> bool:
    """Whether *view* checks a password (many routes share a view, and reading a class's
    source parses its whole module: each view is looked at once per process)."""
    if inspect.isclass(view) and issubclass(view, AUTHENTICATING_BASES):
        return True
    if view is wagtail_views.authenticate_with_password:
        return True
    try:
        source = inspect.getsource(view)
    except (OSError, TypeError):
        return False
    return bool(AUTHENTICATING_SOURCE.search(source))


GUARDED = {inspect.unwrap(v) for v in GUARDED_VIEWS}


def sample_path(route: str) -> str:
    """A concrete URL for a route: sample values for its parameters."""
    route = route.lstrip("^").rstrip("$")
    route = re.sub(r"<int:[^>]+>", "1", route)
    route = re.sub(r"<[^>]+>", "x", route)
    route = re.sub(r"\(\?P<[^>]+>[^)]*\)", "1", route)
    route = route.replace("\\", "")
    return "/" + route


@functools.cache
def authenticating_routes() -> tuple:
    """The URLconf's routes to views that check a password (the URLconf is fixed for the
    process, so it is walked once)."""
    return tuple(
        (route, callback)
        for route, callback in walk(get_resolver().url_patterns)
        if authenticates(callback)
    )


def test_the_walk_finds_the_known_ways_in():
    routes = {route for route, _ in authenticating_routes()}
    for expected in ("_util/login/", "admin/login/", "accounts/login/"):
        assert any(r.endswith(expected) for r in routes), expected
    assert any("password_reset" in r for r in routes)
    assert any("webauthn/authentication" in r for r in routes)


def test_every_authenticating_view_is_the_guarded_one_or_unreachable():
    unguarded = []
    for route, callback in authenticating_routes():
        view = view_of(callback)
        if view in GUARDED:
            continue
        path = sample_path(route)
        try:
            match = resolve(path)
        except Resolver404:
            continue
        reached = view_of(match.func)
        if reached in SHADOWS or reached in GUARDED:
            continue
        if path.startswith("/webauthn/"):
            continue  # answered 404 by SecondFactorMiddleware, probed below
        unguarded.append((route, view))
    assert unguarded == []


@pytest.mark.django_db
def test_posting_a_password_anywhere_else_checks_nothing(staff_user):
    """Every authenticating route, probed signed out and signed in (the found attack came
    from a signed-in liaison): no password is checked outside the guard, none logs in."""
    unguarded_checks = []

    def note(sender, credentials, request=None, **kwargs):
        if request is not None and request.path != "/accounts/login/":
            unguarded_checks.append(request.path)

    user_login_failed.connect(note)
    try:
        for signed_in in (False, True):
            for route, callback in authenticating_routes():
                if view_of(callback) in GUARDED:
                    continue
                client = Client()
                if signed_in:
                    client.force_login(staff_user)
                path = sample_path(route)
                response = client.post(
                    path,
                    {"username": staff_user.username, "password": staff_user.test_password},
                )
                assert response.status_code in (302, 403, 404, 405), (path, response)
                if response.status_code == 302:
                    assert response["Location"].startswith("/accounts/login/"), path
                if not signed_in:
                    assert "_auth_user_id" not in client.session, path
    finally:
        user_login_failed.disconnect(note)
    assert unguarded_checks == []
    # the only logins are the probes' own force_login (one per route signed in)
    signed_in_probes = sum(1 for _, c in authenticating_routes() if view_of(c) not in GUARDED)
    assert UsageRecord.objects.filter(action=UsageAction.LOGIN).count() == signed_in_probes


@pytest.mark.django_db
def test_wagtail_util_login_no_longer_guesses_past_the_throttle(client, staff_user, make_user):
    """Found item 1 reproduced: from a liaison's session /_util/login/ took unlimited
    guesses, even while /accounts/login/ reported the account locked, and a right guess
    logged in as the office's account."""
    liaison = make_user("部门联络员", username="liaison1")
    for _ in range(5):
        password_step(client, staff_user, password="wrong")
    attacker = Client()
    attacker.force_login(liaison)
    for password in ("guess-1", "guess-2", staff_user.test_password):
        response = attacker.post("/_util/login/", {"username": "staffer", "password": password})
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert attacker.session["_auth_user_id"] == str(liaison.pk)


@pytest.mark.django_db
def test_authenticate_outside_the_guard_finds_nobody(rf, staff_user):
    from django.contrib.auth import authenticate

    request = rf.post("/anywhere/")
    assert authenticate(request, username="staffer", password=staff_user.test_password) is None
    assert authenticate(None, username="staffer", password=staff_user.test_password) is None
