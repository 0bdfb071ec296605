"""First login of a deputy's account: the initial password must be changed before anything."""

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

SESSION_KEY = "suggestions_must_change_password"


class FirstLoginPasswordMiddleware:
    """Sends a deputy whose account still has its initial password to the change form.

    The flag is read once per session (``note_login``, on the login signal) and cleared when
    the password is changed; other requests cost nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_KEY) and request.user.is_authenticated:
            target = reverse("suggestions:password_change")
            # the login steps (second factor) and enrolment come first; logout stays open
            allowed = (
                target,
                reverse("login"),
                reverse("logout"),
                reverse("account_security"),
                settings.STATIC_URL,
            )
            if not request.path_info.startswith(allowed):
                return redirect(target)
        return self.get_response(request)


def note_login(sender, request, user, **kwargs):
    from .models import Deputy

    if Deputy.objects.filter(user=user, must_change_password=True).exists():
        request.session[SESSION_KEY] = True
