from django import template

from ..services import unread_count as count_unread

register = template.Library()


@register.simple_tag
def unread_count(user):
    """{% unread_count user as n %}: how many unread messages *user* has."""
    return count_unread(user)
