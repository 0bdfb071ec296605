"""Two publications at the same moment: both get a number, no number is shared or skipped."""

import threading

import pytest
from django.db import close_old_connections, connection

from briefings.defaults import ensure_defaults
from briefings.models import BriefingPage, IssueCounter, MaterialType
from briefings.services import assign_issue_number, ensure_index_page

pytestmark = pytest.mark.django_db(transaction=True)


def _pages(n):
    ensure_defaults()  # a transactional test starts from a flushed database
    material_type = MaterialType.objects.get(code="quarterly-briefing")
    index = ensure_index_page()
    pages = []
    for i in range(n):
        page = BriefingPage(
            title=f"并发{i}",
            slug=f"concurrent-{i}",
            material_type=material_type,
            year=2026,
            period=0,
            live=True,
        )
        index.add_child(instance=page)
        pages.append(page)
    return pages


def test_parallel_numbering_has_no_duplicates_or_gaps(site_tree):
    pages = _pages(6)
    errors = []
    barrier = threading.Barrier(len(pages))

    def run(page_id):
        try:
            barrier.wait(timeout=10)
            for _attempt in range(20):
                try:
                    assign_issue_number(page_id)
                    break
                except Exception as error:  # SQLite: database is locked → retry
                    if "locked" not in str(error).lower():
                        raise
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(p.pk,)) for p in pages]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    numbers = sorted(BriefingPage.objects.values_list("issue_number", flat=True))
    assert numbers == [1, 2, 3, 4, 5, 6]
    assert IssueCounter.objects.get().last_number == 6
    # asking again changes nothing
    assign_issue_number(pages[0].pk)
    assert sorted(BriefingPage.objects.values_list("issue_number", flat=True)) == numbers
