"""Business rules of the library: articles kept in step with published text, the effects of
修订 / 废止 relations, the library's root page, bookmarks and excerpts."""

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from wagtail.models import Page, Site
from wagtail.search import index

from cms import roles

from .choices import RelationKind, Validity
from .models import (
    READ_PERMISSION,
    Bookmark,
    Excerpt,
    PolicyArticle,
    PolicyIndexPage,
    PolicyPage,
    on_commit_index,
)

INDEX_SLUG = "library"
INDEX_TITLE = "政策法规库"


def sync_articles(page: PolicyPage, new: bool = False) -> None:
    """Make the article rows match the page's live text (none while it is unpublished).

    Rows are updated in place by anchor so that an unchanged article costs nothing and
    the search index only sees what changed. ``new``: the page was created by the save
    just made, so it has no rows yet (not looked for)."""
    existing = (
        {}
        if new
        else {article.label: article for article in PolicyArticle.objects.filter(page=page)}
    )
    if not page.live:
        for article in existing.values():
            article.delete()
        return
    to_create = []
    wanted = set()
    for position, parsed in enumerate(page.structure().articles, start=1):
        wanted.add(parsed.anchor)
        values = {
            "position": position,
            "number": parsed.number,
            "sub": parsed.sub,
            "book": parsed.book[:120],
            "chapter": parsed.chapter[:120],
            "section": parsed.section[:120],
            "text": parsed.text,
        }
        row = existing.get(parsed.anchor)
        if row is None:
            to_create.append(PolicyArticle(page=page, label=parsed.anchor, **values))
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.save()
    for label, row in existing.items():
        if label not in wanted:
            row.delete()
    created = PolicyArticle.objects.bulk_create(to_create, batch_size=500)
    on_commit_index(created)


def apply_relation_effects(page: PolicyPage) -> list[PolicyPage]:
    """When a page that revises or repeals others is published and in force, mark those
    others 已修订 / 已废止 (so filters and facets agree with the banner)."""
    if page.effective_on and page.effective_on > timezone.localdate():
        return []
    changed = []
    for relation in page.relations.select_related("target"):
        new_status = {
            RelationKind.REVISES: Validity.REVISED,
            RelationKind.REPEALS: Validity.REPEALED,
        }.get(relation.kind)
        target = relation.target
        if new_status and target.status != new_status and target.status != Validity.REPEALED:
            PolicyPage.objects.filter(pk=target.pk).update(status=new_status)
            target.status = new_status
            index.insert_or_update_object(target)
            changed.append(target)
    return changed


STAFF_PAGE_PERMISSIONS = ["add_page", "change_page", "publish_page", "delete_page"]


@transaction.atomic
def ensure_index_page() -> PolicyIndexPage:
    """The library's root page under the site's home page, created once; 工作人员 may
    add, edit and publish documents below it."""
    existing = PolicyIndexPage.objects.first()
    if existing:
        return existing
    site = Site.objects.filter(is_default_site=True).first() or Site.objects.first()
    parent = site.root_page if site else Page.get_first_root_node()
    slug = INDEX_SLUG
    if parent.get_children().filter(slug=slug).exists():
        slug = f"{INDEX_SLUG}-{parent.get_children().count() + 1}"
    page = PolicyIndexPage(title=INDEX_TITLE, slug=slug, intro="法律、法规、规章和规范性文件。")
    parent.add_child(instance=page)
    page.save_revision().publish()
    grant_staff_page_permissions(page)
    return page


def grant_staff_page_permissions(page: Page) -> None:
    from wagtail.models import GroupPagePermission

    group = Group.objects.filter(name=roles.STAFF).first()
    if group is None:
        return
    for codename in STAFF_PAGE_PERMISSIONS:
        permission = Permission.objects.filter(
            content_type__app_label="wagtailcore", codename=codename
        ).first()
        if permission:
            GroupPagePermission.objects.get_or_create(group=group, page=page, permission=permission)


# --- bookmarks and excerpts -------------------------------------------------------------


def _require_reader(user):
    if not user.is_authenticated or not user.has_perm(READ_PERMISSION):
        raise PermissionDenied("您的角色无权使用政策法规库。")


def toggle_bookmark(user, page: PolicyPage) -> bool:
    """收藏 or un-收藏; returns whether the page is now bookmarked."""
    _require_reader(user)
    bookmark = Bookmark.objects.filter(user=user, page=page).first()
    if bookmark:
        bookmark.delete()
        return False
    Bookmark.objects.create(user=user, page=page)
    return True


def is_bookmarked(user, page: PolicyPage) -> bool:
    return user.is_authenticated and Bookmark.objects.filter(user=user, page=page).exists()


def parse_tags(value: str) -> list[str]:
    import re

    return [tag for tag in (t.strip() for t in re.split(r"[,，、;；\s]+", value or "")) if tag][:20]


@transaction.atomic
def create_excerpt(user, page: PolicyPage, article_label="", text="", note="", tags="") -> Excerpt:
    """摘录 an article (its whole text when *text* is empty) or a selected passage."""
    _require_reader(user)
    article_label = (article_label or "").strip()
    text = (text or "").strip()
    if article_label:
        article = next((a for a in page.structure().articles if a.anchor == article_label), None)
        if article is None:
            raise ValidationError(f"《{page.title}》中没有{article_label}。")
        if not text:
            text = article.text
    if not text:
        raise ValidationError("请选择要摘录的条文或文字。")
    if len(text) > 20000:
        raise ValidationError("摘录内容过长（最多 20000 字），请缩小选择范围。")
    excerpt = Excerpt.objects.create(
        user=user, page=page, article_label=article_label, text=text, note=(note or "").strip()
    )
    names = parse_tags(tags)
    if names:
        excerpt.tags.add(*names)
    return excerpt


def excerpts_of(user):
    return Excerpt.objects.filter(user=user).select_related("page").prefetch_related("tags")


def delete_excerpt(user, excerpt_id: int) -> None:
    excerpt = Excerpt.objects.filter(user=user, pk=excerpt_id).first()
    if excerpt is None:
        raise PermissionDenied("该摘录不存在或不属于您。")
    excerpt.delete()
