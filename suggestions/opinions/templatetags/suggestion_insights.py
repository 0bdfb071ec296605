"""``{% related_material suggestion %}``: the 相关材料 block of a suggestion's detail page
(suggestions/related.py), rendered for the user of the request."""

from django import template

register = template.Library()


@register.inclusion_tag("suggestions/insights/_related.html", takes_context=True)
def related_material(context, suggestion):
    from suggestions.related import related_material as build

    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return {"related": build(user, suggestion), "suggestion": suggestion}
