"""Telling a timed-out session (登录超时) from a first visit.

Sessions end after SESSION_COOKIE_AGE idle seconds. The first request after that
still carries the session cookie, but the site-wide login redirect answers it and
Django deletes the cookie on the way out, so the login page would never see it. A
second cookie, set at login and cleared at logout, survives that redirect: a
visitor who is signed out yet still holds it lost the session without logging out.
"""

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
