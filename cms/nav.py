"""The site's module navigation. Each app registers a function with the Wagtail
hook ``register_site_nav``; it receives the request and returns a NavItem, or None
when the user may not use that module (so nobody sees a link that would refuse them)."""

from dataclasses import dataclass

from wagtail import hooks


@dataclass
class NavItem:
    label: str
    url: str
    order: int = 100
    current: bool = False


def nav_for(request) -> list[NavItem]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    items = [item for fn in hooks.get_hooks("register_site_nav") if (item := fn(request))]
    # The entry whose address is the longest prefix of this page is the current one
    # (/suggestions/insights/… marks 建议分析, not 代表建议).
    path = getattr(request, "path", "")
    matching = [item for item in items if path and path.startswith(item.url)]
    if matching:
        max(matching, key=lambda item: len(item.url)).current = True
    return sorted(items, key=lambda item: item.order)
