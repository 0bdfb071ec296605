"""Idle expiry without a database write per page view (cms.credentials.session_expiry)."""

import time
from datetime import timedelta

from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cms.credentials import session_expiry

from .conftest import password_step


def session_row(client):
    return Session.objects.get(session_key=client.session.session_key)


def session_writes(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [
        q["sql"]
        for q in queries
        if q["sql"].startswith(("UPDATE", "INSERT")) and "session" in q["sql"]
    ]


def test_a_page_view_within_the_interval_writes_no_session(client, deputy_user, settings):
    settings.SESSION_REFRESH_SECONDS = 60
    password_step(client, deputy_user)
    url = reverse("account_security")
    client.get(url)
    assert session_writes(client, url) == []


def test_the_deadline_moves_once_the_interval_has_passed(client, deputy_user, settings):
    settings.SESSION_REFRESH_SECONDS = 60
    password_step(client, deputy_user)
    url = reverse("account_security")
    client.get(url)
    session = client.session
    session[session_expiry.REFRESHED_KEY] = int(time.time()) - 61  # pushed 61 s ago
    session.save()
    before = session_row(client).expire_date
    assert len(session_writes(client, url)) == 1
    assert session_writes(client, url) == []  # and not again at once
    # the deadline is counted from now again: about SESSION_COOKIE_AGE ahead
    expire = session_row(client).expire_date
    assert expire >= before
    ahead = (expire - timezone.now()).total_seconds()
    assert settings.SESSION_COOKIE_AGE - 5 <= ahead <= settings.SESSION_COOKIE_AGE + 5


def test_a_session_idle_past_its_deadline_ends(client, deputy_user):
    password_step(client, deputy_user)
    url = reverse("account_security")
    assert client.get(url).status_code == 200
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_visitor_without_a_session_gets_none(client, db):
    assert client.get(reverse("login")).status_code == 200
    assert Session.objects.count() == 0


def test_the_interval_is_at_most_a_tenth_of_the_idle_time(settings):
    settings.SESSION_REFRESH_SECONDS = 60
    settings.SESSION_COOKIE_AGE = 120
    assert session_expiry.refresh_interval() == 12
    settings.SESSION_COOKIE_AGE = 1800
    assert session_expiry.refresh_interval() == 60
