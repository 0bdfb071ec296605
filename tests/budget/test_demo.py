import datetime

import pytest

from budget.demo import load_demo
from budget.models import Department, Figure, ImportBatch, Subject
from supervision.demo import load_demo as load_supervision_demo
from supervision.models import Alert

pytestmark = pytest.mark.django_db


def test_demo_is_plausible_and_idempotent():
    today = datetime.date(2026, 11, 26)
    load_demo(today=today)
    load_supervision_demo(today=today)  # the alert rules on budget figures are supervision's
    counts = (Figure.objects.count(), ImportBatch.objects.count(), Alert.objects.count())
    assert Department.objects.count() >= 60
    assert Subject.objects.filter(year=2026, kind="function").count() >= 200
    assert set(Figure.objects.values_list("budget", flat=True).distinct()) == {
        "general",
        "fund",
        "capital",
        "social",
    }
    assert Figure.objects.filter(year=2025, phase="final").exists()
    assert Figure.objects.filter(year=2026, month=10, phase="execution").exists()
    kinds = set(Alert.objects.values_list("rule__kind", flat=True))
    assert {"execution_lag", "three_public_over", "year_end_rush", "final_deviation"} <= kinds
    load_demo(today=today)
    load_supervision_demo(today=today)
    assert (Figure.objects.count(), ImportBatch.objects.count(), Alert.objects.count()) == counts
