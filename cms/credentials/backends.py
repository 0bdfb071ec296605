"""The one authentication backend: Django's model backend, but only inside the
throttle's guard (cms.credentials.throttle.guard). Any other view that calls
``authenticate()`` — Wagtail's login forms, a package's API — gets None, so a second
login path cannot exist without a failing login."""

from django.contrib.auth.backends import ModelBackend

from . import throttle


class GuardedModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not throttle.is_guarded(request):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
