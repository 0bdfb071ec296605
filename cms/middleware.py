from csp.middleware import CSPMiddleware
from django.conf import settings
from django.contrib.auth.views import redirect_to_login

# Paths anyone may reach: the login flow itself, static files, the health check.
PUBLIC_PREFIXES = ("/accounts/login", "/static/", "/healthz", "/webauthn/", "/favicon.ico")


class LoginRequiredMiddleware:
    """The whole front end requires login; the admin is for roles that may use it.

    Wagtail answers a signed-in user without admin access by sending them to the
    login page, which tells a deputy nothing: here they get a Chinese 403 instead,
    and the refusal is recorded.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if not request.user.is_authenticated and not path.startswith(PUBLIC_PREFIXES):
            if not path.startswith("/admin/"):
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        elif (
            path.startswith("/admin/")
            and request.user.is_authenticated
            and not request.user.has_perm("wagtailadmin.access_admin")
        ):
            from .views import permission_denied

            return permission_denied(request)
        return self.get_response(request)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """The site allows no inline script (CONTENT_SECURITY_POLICY). Wagtail's own admin
    still writes a few inline scripts (date pickers, inline panels), so under /admin/
    only, and only for staff-side roles that reach it, inline scripts are allowed."""

    ADMIN_PREFIX = "/admin/"
    ADMIN_SCRIPT_SRC = {"script-src": ["'unsafe-inline'"]}

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if request.path_info.startswith(self.ADMIN_PREFIX) and parts.update is None:
            parts.update = self.ADMIN_SCRIPT_SRC
        return parts
