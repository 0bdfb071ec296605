"""Keep each figure's "cited by" list current as pages are published and unpublished."""

from .figures import forget_citations, record_citations


def page_published(sender, instance, **kwargs):
    record_citations(instance)


def page_unpublished(sender, instance, **kwargs):
    forget_citations(instance)
