from django import template

from budget.amounts import format_wan

register = template.Library()


@register.filter
def wan(yuan):
    """An amount in 元 shown in 万元 with two decimals."""
    return format_wan(yuan)
