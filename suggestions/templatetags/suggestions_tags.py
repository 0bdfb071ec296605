from django import template

from .. import services

register = template.Library()


@register.simple_tag
def suggestions_nav(user) -> dict:
    """Which of the module's own pages this user may open (for the sub-navigation)."""
    staff = services.is_staff(user)
    return {
        "staff": staff,
        "mine": services.is_deputy_account(user),
        "department": services.is_liaison(user),
    }
