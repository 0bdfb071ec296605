"""A liaison acts for the units linked to the account, and their 二级单位, nothing else."""

from budget.departments import acts_for, department_ids_for, departments_for, is_department_scoped
from cms import roles


def test_liaison_acts_for_linked_unit_and_its_children(make_user, departments):
    liaison = make_user(roles.LIAISON)
    departments["education"].liaisons.add(liaison)

    assert is_department_scoped(liaison)
    assert set(department_ids_for(liaison)) == {
        departments["education"].pk,
        departments["school"].pk,
    }
    assert acts_for(liaison, departments["school"])
    assert not acts_for(liaison, departments["finance"])
    assert not acts_for(liaison, None)


def test_unlinked_liaison_acts_for_nothing(make_user, departments):
    liaison = make_user(roles.LIAISON)
    assert list(departments_for(liaison)) == []


def test_inactive_unit_gives_no_scope(make_user, departments):
    liaison = make_user(roles.LIAISON)
    departments["finance"].liaisons.add(liaison)
    departments["finance"].is_active = False
    departments["finance"].save()
    assert department_ids_for(liaison) == []


def test_staff_and_superusers_are_not_scoped(make_user, staff_user):
    admin = make_user(roles.ADMIN, is_superuser=True)
    assert not is_department_scoped(staff_user)
    assert not is_department_scoped(admin)
