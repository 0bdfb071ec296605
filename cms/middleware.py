from django.conf import settings
from django.contrib.auth.views import redirect_to_login

# Paths anyone may reach: the login flow itself, static files, the health check.
PUBLIC_PREFIXES = ("/accounts/login", "/static/", "/healthz", "/webauthn/", "/favicon.ico")


class LoginRequiredMiddleware:
    """The whole front end requires login (the admin has its own check)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if not request.user.is_authenticated and not path.startswith(PUBLIC_PREFIXES):
            if not path.startswith("/admin/"):
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return self.get_response(request)
