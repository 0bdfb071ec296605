from django.conf import settings

from .nav import nav_for
from .roles import primary_role


def site(request):
    user = getattr(request, "user", None)
    return {
        "SITE_NAME": settings.SITE_NAME,
        "COUNTY_NAME": settings.COUNTY_NAME,
        "current_role": primary_role(user) if user is not None else None,
        "site_nav": nav_for(request),
    }
