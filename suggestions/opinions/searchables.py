"""Budget review opinions in the site-wide search (users who may query data)."""

from search.registry import register_searchable

from .models import ReviewOpinion
from .services import opinions_for


def register():
    register_searchable(
        ReviewOpinion,
        type_label="预算审议意见",
        queryset_for_user=opinions_for,
        url_for=lambda opinion: opinion.get_absolute_url(),
        title_for=lambda opinion: opinion.title,
        body_for=lambda opinion: "\n".join(
            part for part in (opinion.source_label, opinion.text, opinion.response) if part
        ),
        date_for=lambda opinion: opinion.raised_on,
        facets={"year": lambda opinion: opinion.year},
    )
