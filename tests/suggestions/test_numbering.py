"""Numbers per term and session: consecutive, no gaps, safe when submitted at the same time."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection

from suggestions import services
from suggestions.models import Session, Suggestion

from .conftest import TODAY


@pytest.mark.django_db
def test_numbers_are_per_session_and_consecutive(make_suggestion, term, staff, deputies, category):
    other = Session.objects.create(term=term, number=6)
    a = make_suggestion()
    b = make_suggestion()
    c = services.submit(
        staff,
        term=term,
        session=other,
        title="关于洼垤乡敬老院改造的建议",
        lead_deputy=deputies["a"],
        category=category,
    )
    assert (a.number, b.number, c.number) == (1, 2, 1)
    assert a.code == "18-5-001"


@pytest.mark.django_db
def test_a_failed_submission_leaves_no_gap(
    make_suggestion, staff, term, session, deputies, category
):
    make_suggestion()
    # fails in validation after the number was drawn: the transaction takes the number back
    with pytest.raises(ValidationError):
        services.submit(
            staff, term=term, session=session, title="甲", lead_deputy=deputies["a"], period="xx"
        )
    assert make_suggestion().number == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_get_distinct_consecutive_numbers(make_user, django_db_blocker):
    from cms import roles
    from suggestions.models import Deputy

    staff = make_user(roles.STAFF, username="office_threads")
    term = services.setup_term(18)
    session = Session.objects.create(term=term, number=5)
    deputy = Deputy.objects.create(name="赵平")
    workers, errors = 8, []
    barrier = threading.Barrier(workers)

    def work(i):
        try:
            barrier.wait(timeout=30)
            for attempt in range(20):
                try:
                    with services.as_of(TODAY):
                        services.submit(
                            staff,
                            term=term,
                            session=session,
                            title=f"并发提交{i}",
                            lead_deputy=deputy,
                        )
                    break
                except Exception as error:  # SQLite: "database is locked" under contention → retry
                    if "locked" not in str(error) or attempt == 19:
                        raise
        except Exception as error:  # pragma: no cover - reported below
            errors.append(repr(error))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    numbers = sorted(Suggestion.objects.filter(session=session).values_list("number", flat=True))
    assert numbers == list(range(1, workers + 1))
