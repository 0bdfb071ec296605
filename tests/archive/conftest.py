import pytest

from cms.usage.exports import xlsx_export
from cms.usage.models import ExportRegistration


def make_registration(user, description="2026年预算执行情况"):
    export = xlsx_export("执行情况", ["科目", "金额"], [["201", 100]])
    return ExportRegistration.objects.create(
        user=user,
        username=user.username,
        role="代表/专家",
        module="预算数据",
        description=description,
        purpose="准备预算初审发言材料",
        filename=export.filename,
        file_format="xlsx",
        row_count=1,
        byte_size=len(export.content),
        sha256=export.sha256,
    )


@pytest.fixture
def export_registration(db, deputy_user):
    return make_registration(deputy_user)


@pytest.fixture
def file_now(django_capture_on_commit_callbacks):
    """register_item with the after-commit task run at once (Celery is eager in tests)."""
    from archive import services

    def run(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            item = services.register_item(*args, **kwargs)
        item.refresh_from_db()
        return item

    return run
