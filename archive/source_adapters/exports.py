"""导出备案登记: each registered export (who, when, what, why, digest of the file)."""

from archive.sources import FilingMaterial, Table, register_source

from .common import local_date, local_text, office_name


def describe(registration) -> FilingMaterial:
    rows = [
        ["登记号", registration.pk],
        ["时间", local_text(registration.created_at)],
        ["账号", registration.username],
        ["导出时角色", registration.role],
        ["模块", registration.module],
        ["导出内容", registration.description],
        ["用途", registration.purpose or "（未填写）"],
        ["文件名", registration.filename],
        ["格式", registration.file_format],
        ["行数", registration.row_count],
        ["文件大小（字节）", registration.byte_size],
        ["SHA-256 摘要", registration.sha256],
        ["地址", registration.ip_address or ""],
    ]
    return FilingMaterial(
        title=f"数据导出备案登记：{registration.description}",
        date=local_date(registration.created_at),
        record_type="export",
        responsible=office_name(),
        blocks=[Table(["项目", "内容"], rows)],
        metadata={label: value for label, value in rows},
    )


def register():
    from cms.usage.models import ExportRegistration

    register_source(
        "usage.exportregistration",
        model=ExportRegistration,
        label="导出备案登记",
        record_type="export",
        describe=describe,
        candidates=lambda: ExportRegistration.objects.order_by("created_at", "pk"),
        display=lambda r: f"{local_text(r.created_at)} {r.username} {r.description}",
    )
