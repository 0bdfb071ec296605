"""Materials departments push (部门报送): a liaison uploads for its own department only; the
text is extracted as in the policy library; a late upload is marked; nothing half-stored."""

import hashlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from budget.departments import acts_for, department_ids_for, is_department_scoped
from cms.uploads import check_upload
from policies.extraction import ExtractionError, extract, max_upload_bytes

from .choices import ItemStatus, MaterialKind, ResponsibleKind
from .models import READ_PERMISSION, DepartmentUpload, ScheduledItem, ScheduleEvent
from .services import mark_done

UPLOAD_PERMISSION = "cms.upload_material"


def pushed_items_for(user):
    """The scheduled items this user may upload for."""
    qs = ScheduledItem.objects.filter(
        material_type__kind=MaterialKind.PUSHED,
        material_type__responsible_kind=ResponsibleKind.DEPARTMENT,
    ).select_related("material_type", "material_type__responsible_department")
    if not getattr(user, "is_authenticated", False) or not user.has_perm(UPLOAD_PERMISSION):
        return qs.none()
    if is_department_scoped(user):
        return qs.filter(material_type__responsible_department_id__in=department_ids_for(user))
    return qs


def uploads_visible_to(user):
    from .searchables import uploads_for

    return uploads_for(user).select_related("item", "department", "uploaded_by")


def may_upload_for(user, item: ScheduledItem) -> bool:
    return pushed_items_for(user).filter(pk=item.pk).exists()


def upload_material(user, item: ScheduledItem, uploaded_file, title: str = "") -> DepartmentUpload:
    """Store one pushed material. Raises PermissionDenied for another department's item and
    ValidationError (Chinese) for a file that cannot be read; nothing is stored then."""
    if not may_upload_for(user, item):
        raise PermissionDenied("您只能为本单位的报送事项上传材料。")
    if item.status == ItemStatus.CANCELLED:
        raise ValidationError("该报送事项已取消，不能上传。")
    department = item.material_type.responsible_department
    if is_department_scoped(user) and not acts_for(user, department):
        raise PermissionDenied("您只能为本单位的报送事项上传材料。")
    limit = max_upload_bytes()
    if uploaded_file.size and uploaded_file.size > limit:
        raise ValidationError(f"文件超过 {limit // (1024 * 1024)} MB 的上限。")
    data = uploaded_file.read()
    name = (uploaded_file.name or "").rsplit("/", 1)[-1]
    check_upload(name, data, "material")  # refuses with a Chinese ValidationError
    try:
        extracted = extract(data, name)
    except ExtractionError as error:
        raise ValidationError(f"无法读取“{name}”：{error}") from None
    now = timezone.now()
    late = timezone.localtime(now).date() > item.due_date
    with transaction.atomic():
        upload = DepartmentUpload(
            item=item,
            department=department,
            title=(title or "").strip()[:200] or f"{item.title}（{department.name}）",
            filename=name[:255],
            sha256=hashlib.sha256(data).hexdigest(),
            text=extracted.text,
            uploaded_by=user,
            is_late=late,
        )
        upload.file.save(name, ContentFile(data), save=False)
        try:
            upload.save()
            ScheduleEvent.objects.create(
                item=item,
                actor=user,
                action="上传材料",
                note=f"{name}" + ("（逾期报送）" if late else ""),
            )
            if item.status == ItemStatus.OPEN:
                mark_done(item, user=user, when=now, note=f"已上传 {name}")
            notify_subscribers_once(item, upload)
        except Exception:
            upload.file.delete(save=False)
            raise
    return upload


SUBSCRIBERS_NOTIFIED = "通知订阅读者"


def notify_subscribers_once(item: ScheduledItem, upload: DepartmentUpload) -> int:
    """Tell the readers subscribed to the item's kind that its material has arrived, through
    the channels they chose; once per scheduled item (a re-upload or replacement is not
    announced again). Only readers who may read the upload are told. Runs inside the upload's
    transaction with the item's row locked, so two uploads at once announce it once."""
    from . import subscriptions

    item = ScheduledItem.objects.select_for_update().get(pk=item.pk)
    if item.events.filter(action=SUBSCRIBERS_NOTIFIED).exists():
        return 0
    readers = {
        user: channels
        for user, channels in subscriptions.channels_by_reader(item.material_type).items()
        if may_read_upload(user, upload)
    }
    subscriptions.deliver(
        readers,
        f"{item.material_type.name}已报送：{item.title}",
        body=f"{upload.department.name}报送的《{upload.title}》已到，请阅。",
        url=upload.get_absolute_url(),
        category="briefings",
    )
    ScheduleEvent.objects.create(
        item=item, action=SUBSCRIBERS_NOTIFIED, note=f"{len(readers)} 人（{upload.filename}）"
    )
    return len(readers)


def may_read_upload(user, upload: DepartmentUpload) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.has_perm(READ_PERMISSION):
        return True
    return is_department_scoped(user) and acts_for(user, upload.department)


def max_upload_mb() -> int:
    return max(1, max_upload_bytes() // (1024 * 1024))
