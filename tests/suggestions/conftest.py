"""Fixtures of the 代表建议 tests: a term with its lists, units with liaisons, deputies."""

import datetime

import pytest

from budget.models import Department
from cms import roles
from suggestions import services
from suggestions.models import AnswerClass, Category, Deputy, Session

TODAY = datetime.date(2026, 3, 2)


@pytest.fixture
def term(db):
    return services.setup_term(18, start_date=datetime.date(2022, 1, 1))


@pytest.fixture
def session(term):
    return Session.objects.create(term=term, number=5, start_date=datetime.date(2026, 1, 10))


@pytest.fixture
def category(term):
    return Category.objects.get(term=term, name="城建环资")


@pytest.fixture
def answer_a(term):
    return AnswerClass.objects.get(term=term, code="A")


@pytest.fixture
def answer_b(term):
    return AnswerClass.objects.get(term=term, code="B")


@pytest.fixture
def units(db):
    finance = Department.objects.create(code="006", name="县财政局")
    transport = Department.objects.create(code="036", name="县交通运输局")
    water = Department.objects.create(code="035", name="县水利局")
    return {"finance": finance, "transport": transport, "water": water}


@pytest.fixture
def staff(make_user):
    return make_user(roles.STAFF, username="office1")


@pytest.fixture
def finance_liaison(make_user, units):
    user = make_user(roles.LIAISON, username="finance_liaison")
    units["finance"].liaisons.add(user)
    return user


@pytest.fixture
def transport_liaison(make_user, units):
    user = make_user(roles.LIAISON, username="transport_liaison")
    units["transport"].liaisons.add(user)
    return user


@pytest.fixture
def deputies(make_user, term):
    """Deputy A (with account and contact details), B (with account), C…L without accounts."""
    user_a = make_user(roles.DEPUTY, username="deputy_a")
    user_b = make_user(roles.DEPUTY, username="deputy_b")
    a = Deputy.objects.create(
        name="王秀兰",
        delegation="城关镇代表团",
        user=user_a,
        phone="13912345678",
        id_number="530000197001011234",
        employer="城关镇卫生院秘密单位",
        address="城关镇红河路88号",
    )
    b = Deputy.objects.create(
        name="李文华", delegation="曼来镇代表团", user=user_b, phone="13800000002"
    )
    others = [Deputy.objects.create(name=f"代表{i}", delegation="因远镇代表团") for i in range(10)]
    for d in (a, b, *others):
        d.terms.add(term)
    return {"a": a, "b": b, "others": others, "user_a": user_a, "user_b": user_b}


@pytest.fixture
def make_suggestion(staff, term, session, category, deputies):
    def make(title="关于改造城关镇老旧供水管网的建议", lead=None, **extra):
        with services.as_of(extra.pop("on", TODAY)):
            return services.submit(
                staff,
                term=term,
                session=session,
                title=title,
                content=extra.pop("content", "城关镇部分片区供水管网老化，夏季经常停水。"),
                category=category,
                lead_deputy=lead or deputies["a"],
                **extra,
            )

    return make


@pytest.fixture
def assigned(make_suggestion, staff, units):
    """A suggestion registered and assigned on TODAY to 县财政局 with 县交通运输局 co-handling."""
    s = make_suggestion()
    with services.as_of(TODAY):
        services.register(s, staff)
        services.assign(s, staff, lead_unit=units["finance"], co_units=[units["transport"]])
    s.refresh_from_db()
    return s
