import datetime
from decimal import Decimal

import pytest

from cms import roles
from supervision.choices import AlertGrade, RuleKind
from supervision.letters.choices import SignerCapacity
from supervision.letters.models import LetterSigner
from supervision.models import Alert, AlertRule
from tests.budget.conftest import departments  # noqa: F401

__all__ = ["departments"]


@pytest.fixture
def drafter(make_user):
    return make_user(roles.STAFF, username="drafter", email="drafter@rd.local")


@pytest.fixture
def head(make_user):
    user = make_user(roles.STAFF, username="head", email="head@rd.local")
    LetterSigner.objects.create(user=user, capacity=SignerCapacity.OFFICE_HEAD)
    return user


@pytest.fixture
def leader(make_user):
    user = make_user(roles.STAFF, username="leader", email="leader@rd.local")
    LetterSigner.objects.create(user=user, capacity=SignerCapacity.LEADER)
    return user


@pytest.fixture
def finance_liaison(make_user, departments):
    user = make_user(roles.LIAISON, username="fin_liaison")
    departments["finance"].liaisons.add(user)
    return user


@pytest.fixture
def education_liaison(make_user, departments):
    user = make_user(roles.LIAISON, username="edu_liaison")
    departments["education"].liaisons.add(user)
    return user


@pytest.fixture
def make_alert(db, departments):
    rule = AlertRule.objects.create(
        name="支出进度落后", kind=RuleKind.EXECUTION_LAG, threshold=Decimal(10)
    )
    counter = {"n": 0}

    def make(grade=AlertGrade.GENERAL, department="finance", title=None):
        counter["n"] += 1
        dept = departments[department] if department else None
        return Alert.objects.create(
            rule=rule,
            key=f"k{counter['n']}",
            year=2026,
            month=9,
            budget="general",
            department=dept,
            title=title
            or f"{dept.name if dept else '全县'}一般公共预算支出进度低于序时进度12.5个百分点",
            figures={"调整预算（万元）": "1,200.00", "累计执行（万元）": "780.00"},
            grade=grade,
        )

    return make


def day(text):
    return datetime.date.fromisoformat(text)
