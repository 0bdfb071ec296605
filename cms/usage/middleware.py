"""Remembers the request being served so that signal handlers, which receive no
request, can tell who made a change (see cms.usage.permission_changes)."""

from contextvars import ContextVar

_current_request: ContextVar = ContextVar("usage_current_request", default=None)


def current_request():
    """The request this thread or task is serving, or None (shell, migrate, Celery)."""
    return _current_request.get()


class CurrentRequestMiddleware:
    """Place right after AuthenticationMiddleware so request.user is available."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)
