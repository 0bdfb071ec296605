"""Who may read and who may enter budget review opinions."""

from django.db.models import Case, IntegerField, Q, Value, When

from .choices import ReviewStage
from .models import ReviewOpinion

READ_PERMISSION = "cms.query_data"
# Staff enter opinions: whoever runs the suggestion workflows or publishes material.
MANAGE_PERMISSIONS = ("cms.run_workflows", "cms.publish_material")


def can_read(user) -> bool:
    return bool(
        user and user.is_authenticated and user.is_active and user.has_perm(READ_PERMISSION)
    )


def can_manage(user) -> bool:
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and any(user.has_perm(p) for p in MANAGE_PERMISSIONS)
    )


def opinions_for(user):
    """Every opinion for users who may query data; nothing for anyone else."""
    if not can_read(user):
        return ReviewOpinion.objects.none()
    return ReviewOpinion.objects.all()


def filter_opinions(
    queryset, *, year=None, stage=None, department=None, subject_code=None, text=""
):
    if year:
        queryset = queryset.filter(year=year)
    if stage:
        if stage not in ReviewStage.values:
            return queryset.none()
        queryset = queryset.filter(stage=stage)
    if department is not None:
        queryset = queryset.filter(departments__in=department.descendant_ids())
    if subject_code:
        queryset = queryset.filter(
            Q(subjects__code=subject_code) | Q(subjects__code__startswith=subject_code)
        )
    text = (text or "").strip()
    if text:
        queryset = queryset.filter(
            Q(title__icontains=text) | Q(text__icontains=text) | Q(response__icontains=text)
        )
    return queryset.distinct()


def in_stage_order(queryset):
    """Newest year first, then the stages in the order the review goes through them."""
    rank = Case(
        *(When(stage=value, then=Value(i)) for i, value in enumerate(ReviewStage.values)),
        output_field=IntegerField(),
    )
    return queryset.annotate(stage_rank=rank).order_by("-year", "stage_rank", "raised_on", "pk")
