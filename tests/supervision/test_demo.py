from decimal import Decimal

import pytest
from django.utils import timezone

from budget.models import Department
from supervision import demo
from supervision.debt import history, maturing_bonds
from supervision.models import Alert, Bond, DebtPosition, Repayment, SupervisionBatch

pytestmark = pytest.mark.django_db


def test_demo_county_is_near_but_below_its_limit_and_loads_once():
    today = timezone.localdate()
    demo.load_demo()
    counts = (
        SupervisionBatch.objects.count(),
        DebtPosition.objects.count(),
        Bond.objects.count(),
        Repayment.objects.count(),
        Alert.objects.count(),
    )
    # three debt files and two state-asset files
    assert counts[:3] == (5, 10, len(demo.BONDS)) and counts[3] > 20
    latest = history()[-1]
    assert latest.year == today.year
    assert latest.balance < latest.limit
    assert Decimal(90) < latest.limit_usage < Decimal(100)
    assert latest.debt_ratio and latest.service_ratio and latest.interest_ratio
    due = maturing_bonds(12, today)
    assert 3 <= len(due) <= 5
    assert any(not b.repayment_source for b in due)
    keys = set(Alert.objects.values_list("key", flat=True))
    assert {"限额:general", "限额:special", "到期:2021S03"} <= keys
    demo.load_demo()  # a second run changes nothing
    assert counts == (
        SupervisionBatch.objects.count(),
        DebtPosition.objects.count(),
        Bond.objects.count(),
        Repayment.objects.count(),
        Alert.objects.count(),
    )


def test_demo_audit_findings_in_every_state(make_user):
    from cms import roles
    from supervision.models import AuditFinding

    make_user(roles.STAFF, username="staff")
    for code, name in (("101", "县财政局"), ("201", "县教育局"), ("301", "县卫生健康局")):
        Department.objects.create(code=code, name=name)
    demo.load_demo()
    statuses = list(AuditFinding.objects.values_list("status", flat=True))
    assert len(statuses) == 20
    assert {s: statuses.count(s) for s in set(statuses)} == {"done": 8, "partial": 6, "none": 6}
    assert all(
        f.reports.exclude(evidence="").exists() for f in AuditFinding.objects.filter(status="done")
    )
    assert sum(f.is_overdue() for f in AuditFinding.objects.all()) == 4
    # every move of the transition table, the staff's 退回 included
    from supervision.models import FindingEvent

    actions = set(FindingEvent.objects.values_list("action", flat=True))
    assert {"登记问题", "报告部分整改", "报告整改完成", "退回重新整改"} <= actions
    demo.load_demo()
    assert AuditFinding.objects.count() == 20
