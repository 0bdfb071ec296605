from django import template

from cms import roles

from .. import services

register = template.Library()


@register.simple_tag
def suggestions_nav(user) -> dict:
    """Which of the module's own pages this user may open (for the sub-navigation)."""
    staff = services.is_staff(user)
    return {
        "staff": staff,
        "mine": services.deputy_of(user) is not None or roles.has_role(user, roles.DEPUTY),
        "department": services.is_liaison(user),
    }
