"""Several signers approving at the same moment get consecutive 发文字号, none twice."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from supervision.choices import AlertGrade
from supervision.letters import services
from supervision.letters.models import Letter, LetterSequence


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_take_consecutive_numbers(
    make_alert, drafter, head, settings, monkeypatch
):
    # the renditions queued at 签发 are tested elsewhere; here only the numbers matter
    monkeypatch.setattr(services, "_queue_rendition", lambda letter_id: None)
    settings.LETTERS_DOC_NUMBER_PREFIXES = {"bulletin": "元人预通", "letter": "元人预函"}
    count = 6
    letters = []
    for i in range(count):
        grade = AlertGrade.GENERAL if i % 2 else AlertGrade.IMPORTANT
        letter = services.create_from_alert(make_alert(grade), drafter)
        letters.append(services.act(letter, "submit", drafter))
    barrier = threading.Barrier(count)
    errors = []

    def approve(letter):
        try:
            barrier.wait(timeout=30)
            services.act(letter, "approve", head)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(letter,)) for letter in letters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    year = timezone.localdate().year
    for series in ("bulletin", "letter"):
        numbers = sorted(Letter.objects.filter(series=series).values_list("number", flat=True))
        assert numbers == [1, 2, 3]
        assert LetterSequence.objects.get(series=series, year=year).last_number == 3
    doc_numbers = set(Letter.objects.values_list("doc_number", flat=True))
    assert len(doc_numbers) == count
