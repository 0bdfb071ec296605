"""Telling a timed-out session (登录超时) from a first visit.

Sessions end after SESSION_COOKIE_AGE idle seconds. The first request after that
still carries the session cookie, but the site-wide login redirect answers it and
Django deletes the cookie on the way out, so the login page would never see it. A
second cookie, set at login and cleared at logout, survives that redirect: a
visitor who is signed out yet still holds it lost the session without logging out.
"""

import time

from django.conf import settings

MARKER_COOKIE = "rd_signed_in"
_SALT = "cms.credentials.session_expiry"


def mark_signed_in(response) -> None:
    response.set_signed_cookie(
        MARKER_COOKIE,
        "1",
        salt=_SALT,
        httponly=True,
        samesite="Lax",
        secure=getattr(settings, "SESSION_COOKIE_SECURE", False),
    )


def forget(response) -> None:
    response.delete_cookie(MARKER_COOKIE, samesite="Lax")


def session_ended(request) -> bool:
    """True when this signed-out request comes from a browser whose session ended."""
    if request.user.is_authenticated:
        return False
    if request.get_signed_cookie(MARKER_COOKIE, default=None, salt=_SALT):
        return True
    cookie = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    # The session was loaded by the authentication middleware; a key it could not
    # find (deleted, or expired) leaves the store without one.
    return bool(cookie) and request.session.session_key != cookie


# The session records when its idle deadline was last pushed forward.
REFRESHED_KEY = "_idle_refreshed_at"


def refresh_interval() -> int:
    """Seconds between two pushes of a session's idle deadline: SESSION_REFRESH_SECONDS
    (60 by default), never more than a tenth of the idle time itself."""
    configured = int(getattr(settings, "SESSION_REFRESH_SECONDS", 60))
    return max(0, min(configured, settings.SESSION_COOKIE_AGE // 10))


class IdleDeadlineMiddleware:
    """Sessions end after SESSION_COOKIE_AGE idle seconds. Saving the session on every
    request (SESSION_SAVE_EVERY_REQUEST) would keep that deadline exact, at the price of a
    database write per page view, which concurrent readers of a SQLite site queue behind.
    This saves a session only when it changed or when its deadline was last pushed
    forward more than refresh_interval() ago, so a session ends between
    SESSION_COOKIE_AGE − refresh_interval() and SESSION_COOKIE_AGE after its last request.

    Place it right after SessionMiddleware: its response step then runs just before the
    session is saved.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or response.status_code >= 500:
            return response
        # A visitor without a session (or one just flushed at logout) gets none from here.
        if session.is_empty():
            return response
        now = int(time.time())
        last = session.get(REFRESHED_KEY)
        if session.modified or not isinstance(last, int) or now - last >= refresh_interval():
            session[REFRESHED_KEY] = now
        return response
