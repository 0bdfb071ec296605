"""Entry points that views and commands share: an import with its usage record."""

from cms.usage.models import UsageAction
from cms.usage.services import record_usage

from .importing import ImportOptions, ImportResult, import_file
from .models import ImportBatch

UPLOAD_PERMISSION = "cms.upload_material"


def can_import(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(UPLOAD_PERMISSION))


def run_import(
    content: bytes,
    filename: str,
    options: ImportOptions | None = None,
    *,
    request=None,
    user=None,
    username: str = "",
) -> ImportResult:
    """Import one file and record the upload (使用记录) when a batch was stored."""
    if user is None and request is not None:
        user = request.user
    result = import_file(content, filename, options, user=user, username=username)
    if result.ok:
        batch = ImportBatch.objects.get(pk=result.batch)
        changes = result.changes
        record_usage(
            request,
            UsageAction.UPLOAD,
            obj=batch,
            user=user if getattr(user, "is_authenticated", False) else None,
            username=username,
            detail=(
                f"导入预算数据 {filename}（SHA-256 {batch.sha256}），{result.rows} 行；"
                f"{batch.scope_label}；新增 {changes.get('added', 0)}、"
                f"变化 {changes.get('changed', 0)}、删除 {changes.get('removed', 0)}"
            ),
        )
    return result
