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


def _page_facets():
    return {
        "year": lambda p: p.year,
        "issuer": lambda p: p.issuer,
        "effect_level": lambda p: p.get_effect_level_display(),
        "status": lambda p: p.get_status_display(),
    }


def register():
    register_searchable(
        PolicyPage,
        type_label="政策法规",
        queryset_for_user=_documents_for,
        url_for=lambda page: page.url,
        date_for=lambda page: page.issued_on,
        facets=_page_facets(),
    )
    page_facets = _page_facets()
    register_searchable(
        PolicyArticle,
        type_label="法规条文",
        queryset_for_user=_articles_for,
        url_for=lambda article: article.get_absolute_url(),
        title_for=str,
        body_for=lambda article: article.text,
        date_for=lambda article: article.page.issued_on,
        facets={key: (lambda a, fn=fn: fn(a.page)) for key, fn in page_facets.items()},
        # results list a policy once, with its best-matching articles beneath it
        parent_for=lambda article: article.page,
        parent_key=PolicyPage._meta.label_lower,
        hit_fields=(
            "id",
            "label",
            "page__id",
            "page__content_type",
            "page__title",
            "page__url_path",
            "page__issued_on",
            "page__year",
            "page__issuer",
            "page__effect_level",
            "page__status",
        ),
    )
