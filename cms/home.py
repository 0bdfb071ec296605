"""Panels of the home page. Each app registers a function with the Wagtail hook
``register_home_panel``; it receives the request and returns a HomePanel, or None
when it has nothing for this user (so the page shows only what exists)."""

from dataclasses import dataclass, field

from wagtail import hooks


@dataclass
class HomePanelItem:
    title: str
    url: str = ""
    meta: str = ""
    overdue: bool = False


@dataclass
class HomePanel:
    title: str
    items: list[HomePanelItem] = field(default_factory=list)
    more_url: str = ""
    order: int = 100
    kind: str = "list"  # "list" or "due"


def panels_for(request) -> list[HomePanel]:
    panels = []
    for fn in hooks.get_hooks("register_home_panel"):
        panel = fn(request)
        if panel and panel.items:
            panels.append(panel)
    return sorted(panels, key=lambda p: p.order)
