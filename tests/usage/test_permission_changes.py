import pytest
from django.contrib.auth.models import Group, Permission

from cms import roles
from cms.usage.models import UsageAction, UsageRecord

pytestmark = pytest.mark.django_db


def changes():
    return UsageRecord.objects.filter(action=UsageAction.PERMISSION_CHANGE)


def latest_change():
    return changes().order_by("-id").first()


def permission(codename):
    return Permission.objects.get(content_type__app_label="cms", codename=codename)


def test_joining_and_leaving_a_role_from_either_side(make_user):
    user = make_user(display_name="张三")
    staff = Group.objects.get(name=roles.STAFF)
    before = changes().count()

    user.groups.add(staff)
    record = latest_change()
    assert record.detail == "将 张三 加入角色 工作人员"
    assert record.username == "系统" and record.user is None
    assert record.object_repr == "张三"

    staff.user_set.remove(user)
    assert latest_change().detail == "将 张三 移出角色 工作人员"

    staff.user_set.add(user)
    assert latest_change().detail == "将 张三 加入角色 工作人员"
    user.groups.clear()
    assert latest_change().detail == "将 张三 移出角色 工作人员"
    assert changes().count() == before + 4


def test_no_op_changes_write_nothing(make_user):
    user = make_user(roles.STAFF, display_name="李四")
    staff = Group.objects.get(name=roles.STAFF)
    archivist = Group.objects.get(name=roles.ARCHIVIST)
    before = changes().count()

    user.groups.add(staff)  # already a member
    user.groups.remove(archivist)  # never a member
    user.groups.set([staff])
    roles.sync_role_permissions()
    roles.sync_role_permissions()

    assert changes().count() == before


def test_role_sync_records_only_real_changes():
    deputy = Group.objects.get(name=roles.DEPUTY)
    deputy.permissions.add(permission("run_backups"))
    before = changes().count()

    roles.sync_role_permissions()

    new = list(changes().order_by("id")[before:])
    assert len(new) == 1
    assert new[0].detail == "从角色 代表/专家 移除权限：执行和核验备份（cms.run_backups）"
    assert new[0].username == "系统"
    assert not deputy.permissions.filter(codename="run_backups").exists()


def test_user_and_group_permissions(make_user):
    user = make_user(display_name="王五")
    export = permission("export_data")

    user.user_permissions.add(export)
    assert latest_change().detail == "授予 王五 权限：导出数据（cms.export_data）"
    export.user_set.remove(user)
    assert latest_change().detail == "撤销 王五 的权限：导出数据（cms.export_data）"

    liaison = Group.objects.get(name=roles.LIAISON)
    liaison.permissions.add(export)
    assert latest_change().detail == "为角色 部门联络员 增加权限：导出数据（cms.export_data）"
    export.group_set.remove(liaison)
    assert latest_change().detail == "从角色 部门联络员 移除权限：导出数据（cms.export_data）"


def test_active_and_superuser_flips(make_user):
    user = make_user(display_name="赵六")
    before = changes().count()

    user.is_active = False
    user.save()
    assert latest_change().detail == "停用账户 赵六"
    user.is_active = True
    user.is_superuser = True
    user.save()
    assert latest_change().detail == "启用账户 赵六；授予 赵六 超级用户身份（拥有全部权限）"
    user.last_name = "赵"
    user.save()  # no flag changed
    user.save(update_fields=["last_login"])
    assert changes().count() == before + 2


def test_actor_is_the_user_of_the_request(client, admin_user_role, make_user):
    """A change made through the admin's user form names the administrator who made it."""
    target = make_user(display_name="孙七", username="sunqi")
    staff = Group.objects.get(name=roles.STAFF)
    client.force_login(admin_user_role)
    response = client.post(
        f"/admin/users/edit/{target.pk}/",
        {
            "username": "sunqi",
            "display_name": "孙七",
            "email": "sunqi@example.org",
            "first_name": "七",
            "last_name": "孙",
            "is_active": "on",
            "groups": [staff.pk],
        },
    )
    errors = response.context["form"].errors if response.status_code == 200 else None
    assert response.status_code == 302, errors
    record = changes().filter(detail="将 孙七 加入角色 工作人员").get()
    assert record.user == admin_user_role
    assert record.username == "sysadmin"
    assert record.ip_address == "127.0.0.1"


def test_an_account_without_first_and_last_name_can_be_saved(client, admin_user_role, make_user):
    """Before: “无法保存用户。出现错误。” — 名/姓 were required, and the accounts the demo and
    commands create have only 姓名 (display_name)."""
    target = make_user(roles.STAFF, display_name="周八", username="zhouba")
    client.force_login(admin_user_role)
    staff = Group.objects.get(name=roles.STAFF)
    response = client.post(
        f"/admin/users/edit/{target.pk}/",
        {"username": "zhouba", "display_name": "周八 ", "email": "zhouba@example.org",
         "first_name": "", "last_name": "", "is_active": "on", "groups": [staff.pk]},
    )  # fmt: skip
    errors = response.context["form"].errors if response.status_code == 200 else None
    assert response.status_code == 302, errors
    listing = client.get("/admin/users/").content.decode()
    assert "角色" in listing and "工作人员" in listing
