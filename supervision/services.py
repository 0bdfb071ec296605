"""Entry points views and commands share: a debt import with its usage record."""

from cms.usage.models import UsageAction
from cms.usage.services import record_usage

from .choices import ImportKind
from .importing import ImportResult, import_file
from .models import SupervisionBatch

UPLOAD_PERMISSION = "cms.upload_material"
QUERY_PERMISSION = "cms.query_data"


def can_import(user) -> bool:
    """Staff who query and upload; a liaison (upload only) may not load county debt data."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.has_perm(UPLOAD_PERMISSION)
        and user.has_perm(QUERY_PERMISSION)
    )


def run_import(content, filename, kind, *, request=None, user=None, username="") -> ImportResult:
    if user is None and request is not None:
        user = request.user
    result = import_file(content, filename, kind, user=user, username=username)
    if result.ok:
        batch = SupervisionBatch.objects.get(pk=result.batch)
        changes = result.changes
        record_usage(
            request,
            UsageAction.UPLOAD,
            obj=batch,
            user=user if getattr(user, "is_authenticated", False) else None,
            username=username,
            detail=(
                f"导入{ImportKind(kind).label} {filename}（SHA-256 {batch.sha256}），"
                f"{result.rows} 行；新增 {changes.get('added', 0)}、"
                f"更新 {changes.get('changed', 0)}、未变 {changes.get('unchanged', 0)}"
                + (f"、删除 {changes['removed']}" if changes.get("removed") else "")
            ),
        )
    return result
