from django import template

from cms.personal import personal_value

register = template.Library()


@register.simple_tag(takes_context=True)
def personal(context, obj, field):
    """{% personal deputy "phone" %}: the value for 系统管理员, a notice for everyone else."""
    return personal_value(context["request"].user, obj, field)
