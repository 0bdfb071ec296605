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


def nav_for(request) -> list[NavItem]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    items = [item for fn in hooks.get_hooks("register_site_nav") if (item := fn(request))]
    return sorted(items, key=lambda item: item.order)
