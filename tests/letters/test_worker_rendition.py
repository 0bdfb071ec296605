"""签发 queues the rendition; a real Celery worker process writes the DOCX (and the PDF)."""

import shutil

import pytest

from supervision.choices import AlertGrade
from supervision.letters import services
from supervision.letters.choices import RenditionStatus
from supervision.letters.models import Letter
from tests.worker.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_signing_renders_in_the_worker(celery_worker_process, make_alert, drafter, leader):
    letter = services.create_from_alert(make_alert(AlertGrade.MAJOR), drafter)
    letter = services.act(letter, "submit", drafter)
    services.act(letter, "approve", leader)  # queues render_letter after commit

    def rendered():
        current = Letter.objects.get(pk=letter.pk)
        return (
            current
            if current.rendition_status in (RenditionStatus.DONE, RenditionStatus.FAILED)
            else None
        )

    current = wait_for(rendered, timeout=180, interval=1)
    assert current, "the worker did not render the letter in time"
    assert current.rendition_status == RenditionStatus.DONE, current.rendition_error
    assert current.docx_file.read()[:2] == b"PK"
    if shutil.which("soffice"):
        assert current.pdf_file.read()[:4] == b"%PDF"
