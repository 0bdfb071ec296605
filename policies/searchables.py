"""The policy library in the site-wide search: documents and their articles (条)."""

from search.registry import register_searchable

from .models import READ_PERMISSION, PolicyArticle, PolicyPage


def _documents_for(user):
    if not user.has_perm(READ_PERMISSION):
        return PolicyPage.objects.none()
    return PolicyPage.objects.live().public()


def _articles_for(user):
    if not user.has_perm(READ_PERMISSION):
        return PolicyArticle.objects.none()
    live = PolicyPage.objects.live().public().values("pk")
    return PolicyArticle.objects.filter(page__in=live).select_related("page")


def _label(field_name):
    """A choice field's label, as get_FOO_display gives it, from a table read once (the
    bound get_FOO_display of every policy of every search was a few per cent of a search)."""
    labels = {}

    def label(page):
        if not labels:
            labels.update(PolicyPage._meta.get_field(field_name).flatchoices)
        value = getattr(page, field_name)
        return str(labels.get(value, value))

    return label


def _page_facets():
    return {
        "year": lambda p: p.year,
        "issuer": lambda p: p.issuer,
        "effect_level": _label("effect_level"),
        "status": _label("status"),
    }


_PAGE_FACETS = _page_facets()
# what a policy needs to be listed: title, address, date, facets
_POLICY_HIT_FIELDS = (
    "id",
    "content_type",
    "title",
    "url_path",
    "issued_on",
    "year",
    "issuer",
    "effect_level",
    "status",
)


def _article_facet(key):
    """A facet of an article: its policy's, worked out once per policy object (the hits
    of one search share their policy's object, search.registry.Searchable.hit_related)."""

    def value(article):
        page = article.page
        facets = page.__dict__.get("_search_facets")
        if facets is None:
            facets = page.__dict__["_search_facets"] = {
                name: fn(page) for name, fn in _PAGE_FACETS.items()
            }
        return facets[key]

    return value


def register():
    register_searchable(
        PolicyPage,
        type_label="政策法规",
        queryset_for_user=_documents_for,
        url_for=lambda page: page.url,
        date_for=lambda page: page.issued_on,
        facets=_page_facets(),
        # not the whole text of every matching statute: the snippet's text is read for the
        # hits shown only (search.registry.complete_shown)
        hit_fields=_POLICY_HIT_FIELDS,
    )
    register_searchable(
        PolicyArticle,
        type_label="法规条文",
        queryset_for_user=_articles_for,
        url_for=lambda article: article.get_absolute_url(),
        title_for=str,
        body_for=lambda article: article.text,
        date_for=lambda article: article.page.issued_on,
        facets={key: _article_facet(key) for key in _PAGE_FACETS},
        # results list a policy once, with its best-matching articles beneath it
        parent_for=lambda article: article.page,
        parent_key=PolicyPage._meta.label_lower,
        hit_fields=("id", "label", "page"),
        hit_related={"page": _POLICY_HIT_FIELDS},
    )
