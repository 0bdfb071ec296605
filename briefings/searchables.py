"""Briefings and pushed materials in the site-wide search, for those who may read them."""

from search.registry import register_searchable

from .models import READ_PERMISSION, BriefingPage, DepartmentUpload


def _briefings_for(user):
    from .services import readable_briefings

    return readable_briefings(user)


def uploads_for(user):
    """查询 users see every pushed material; a liaison sees its own department's."""
    from budget.departments import department_ids_for, is_department_scoped

    if not getattr(user, "is_authenticated", False):
        return DepartmentUpload.objects.none()
    if user.has_perm(READ_PERMISSION):
        return DepartmentUpload.objects.all()
    if is_department_scoped(user):
        return DepartmentUpload.objects.filter(department_id__in=department_ids_for(user))
    return DepartmentUpload.objects.none()


def register():
    register_searchable(
        BriefingPage,
        type_label="简报",
        queryset_for_user=_briefings_for,
        url_for=lambda page: page.url,
        title_for=lambda page: (
            f"{page.title}（{page.issue_label}）" if page.issue_number else page.title
        ),
        date_for=lambda page: page.first_published_at,
        facets={"year": lambda page: page.year},
    )
    register_searchable(
        DepartmentUpload,
        type_label="部门报送材料",
        queryset_for_user=uploads_for,
        url_for=lambda upload: upload.get_absolute_url(),
        title_for=lambda upload: f"{upload.title}（{upload.department.name}）",
        body_for=lambda upload: upload.text,
        date_for=lambda upload: upload.uploaded_at,
        facets={"year": lambda upload: upload.item.year},
    )
