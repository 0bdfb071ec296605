"""Two archivists filing into the same class at once get consecutive numbers, no gap."""

import threading

import pytest
from django.db import connection, transaction

from archive import services
from archive.models import ArchiveItem, NumberCounter


def _take(results, errors, barrier):
    try:
        barrier.wait(timeout=30)
        with transaction.atomic():
            number = services.take_next_sequence("J001", "WS", 2026, "Y", "YSGW")
        results.append(number)
    except Exception as exc:  # pragma: no cover - reported by the assertion below
        errors.append(exc)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_concurrent_filers_get_consecutive_numbers():
    threads_count = 8
    results, errors = [], []
    barrier = threading.Barrier(threads_count)
    threads = [
        threading.Thread(target=_take, args=(results, errors, barrier))
        for _ in range(threads_count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(results) == list(range(1, threads_count + 1))
    assert NumberCounter.objects.get().last_number == threads_count


@pytest.mark.django_db(transaction=True)
def test_two_archivists_filing_at_once_get_consecutive_item_numbers(make_user, settings):
    """Whole register_item calls from two threads (two archivists) into one class."""
    from cms import roles
    from tests.archive.conftest import make_registration

    services.ensure_default_rules()  # a transactional test starts from an empty table
    first = make_user(roles.ARCHIVIST, username="a1")
    second = make_user(roles.ARCHIVIST, username="a2")
    registrations = [make_registration(first, f"导出{i}") for i in range(4)]
    errors, barrier = [], threading.Barrier(4)

    def file(user, registration):
        try:
            barrier.wait(timeout=30)
            services.register_item("usage.exportregistration", registration.pk, user, enqueue=False)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=file, args=(user, registration))
        for user, registration in zip([first, second, first, second], registrations, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    numbers = sorted(ArchiveItem.objects.values_list("sequence", flat=True))
    assert numbers == [1, 2, 3, 4]
    assert {i.filed_by.username for i in ArchiveItem.objects.all()} == {"a1", "a2"}


def test_numbers_restart_in_each_lowest_class(db):
    with transaction.atomic():
        a = services.take_next_sequence("J001", "WS", 2026, "Y", "YSGW")
        b = services.take_next_sequence("J001", "WS", 2026, "Y", "YSGW")
        c = services.take_next_sequence("J001", "WS", 2026, "D10", "YSGW")
        d = services.take_next_sequence("J001", "WS", 2025, "Y", "YSGW")
        e = services.take_next_sequence("J001", "WS", 2026, "Y", "BGS")
    assert (a, b, c, d, e) == (1, 2, 1, 1, 1)
    assert (
        services.item_number_for("J001", "WS", 2026, "Y", "YSGW", 1) == "J001-WS·2026-Y-YSGW-0001"
    )
