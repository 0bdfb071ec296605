"""The archive in the site-wide search: filed items, for those who may read the archive."""

from search.registry import register_searchable

from .models import READ_PERMISSION, ArchiveItem


def items_for(user):
    if not (user.is_authenticated and user.has_perm(READ_PERMISSION)):
        return ArchiveItem.objects.none()
    return ArchiveItem.objects.filed()


def register():
    register_searchable(
        ArchiveItem,
        type_label="归档文件",
        queryset_for_user=items_for,
        url_for=lambda item: item.get_absolute_url(),
        title_for=lambda item: f"{item.item_number} {item.title}",
        date_for=lambda item: item.date,
        facets={"year": lambda item: item.year},
    )
