"""代表建议 in the site-wide search. Visibility is services.visible_to (staff all; a deputy
own, co-signed and public ones; a liaison the department's); the indexed text is the
suggestion's own (title, content, lead deputy's name, category, units), never contact details."""

from search.registry import register_searchable

from . import services
from .models import Suggestion


def _for_user(user):
    return services.visible_to(user).select_related(
        "term", "session", "category", "lead_deputy", "lead_unit"
    )


def register():
    register_searchable(
        Suggestion,
        type_label="代表建议",
        queryset_for_user=_for_user,
        url_for=lambda s: s.get_absolute_url(),
        title_for=lambda s: f"{s.code} {s.title}",
        date_for=lambda s: s.submitted_on,
        facets={"year": lambda s: s.submitted_on.year},
        shown_prefetch=("co_units",),  # unit_names, in the snippet
    )
