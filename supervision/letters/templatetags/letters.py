from django import template

register = template.Library()


@register.simple_tag
def letters_for_alert(alert, user):
    """The letters of one alert that *user* may see (for the alert page)."""
    from ..services import letters_for

    return list(letters_for(user).filter(alert=alert).order_by("created_at"))


@register.simple_tag
def may_draft_letters(user):
    from ..services import can_draft

    return can_draft(user)
