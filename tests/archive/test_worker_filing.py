"""Filing through a real Celery worker: the web request registers, the worker renders."""

import pytest

from archive import services
from archive.models import ArchiveItem, ItemStatus
from tests.worker.conftest import wait_for

from .conftest import make_registration

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_makes_the_package(celery_worker_process, make_user):
    from cms import roles

    services.ensure_default_rules()  # a transactional test starts from empty tables
    archivist = make_user(roles.ARCHIVIST, username="worker-archivist")
    registration = make_registration(archivist, "真实任务进程归档")
    item = services.register_item("usage.exportregistration", registration.pk, archivist)
    assert item.status == ItemStatus.RENDERING  # nothing rendered in this process

    def finished():
        current = ArchiveItem.objects.get(pk=item.pk)
        return current if current.status != ItemStatus.RENDERING else None

    done = wait_for(finished, timeout=180)
    assert done is not None, "the worker did not file the item in time"
    assert done.status == ItemStatus.FILED, done.status_message
    assert (services.archive_root() / done.item_number / "rendition.pdf").is_file()
    assert done.files.count() == 3
