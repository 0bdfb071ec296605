"""Keep each figure's "cited by" list current as pages are published and unpublished, and tell
other apps (supervision's alert rules) when an import has committed new figures."""

from django.dispatch import Signal

from .figures import forget_citations, record_citations

# sent after the transaction of an import commits; keyword argument: batch_id
figures_imported = Signal()


def page_published(sender, instance, **kwargs):
    record_citations(instance)


def page_unpublished(sender, instance, **kwargs):
    forget_citations(instance)


def batch_deleting(sender, instance, **kwargs):
    """Remember which rollups a batch feeds before its figures go (imports are the only
    other writers, and they rebuild what they touch)."""
    instance._rollup_scopes = set(
        instance.figures.values_list("year", "budget", "kind").distinct().order_by()
    )


def batch_deleted(sender, instance, **kwargs):
    from .measures import rebuild_rollups

    scopes = getattr(instance, "_rollup_scopes", None)
    if scopes:
        rebuild_rollups(scopes)
