"""立卷归档 rules: numbering, filing, the frozen package, corrections, access register,
appraisal. Views, admin, tasks and commands call these; nothing else changes an item."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import shutil
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from wagtail.search import index

from cms.sequences import locked_counter

from .backup import hash_file
from .models import (
    CLASSIFIED_LEVELS,
    CLASSIFIED_REFUSAL,
    FILE_PERMISSION,
    RETENTION_YEARS,
    AccessAction,
    AccessRecord,
    AppraisalDecision,
    ArchiveClass,
    ArchiveFile,
    ArchiveItem,
    Classification,
    ClassKind,
    Decision,
    FileRole,
    FilingEvent,
    ItemStatus,
    NumberCounter,
    Retention,
    RetentionRule,
)
from .rendition import RenditionError, RenditionJob, StampFields, render, soffice_command
from .sources import FilingMaterial, Heading, Paragraph, Table, get_source


class FilingError(Exception):
    """A refusal to file, in Chinese; nothing was written."""


# The one table of item states: (from, to) → what the step is called.
TRANSITIONS = {
    ("", ItemStatus.RENDERING): "登记归档",
    (ItemStatus.RENDERING, ItemStatus.FILED): "生成归档文件",
    (ItemStatus.RENDERING, ItemStatus.FAILED): "生成失败",
    (ItemStatus.FAILED, ItemStatus.RENDERING): "重新生成",
    (ItemStatus.RENDERING, ItemStatus.RENDERING): "重新提交生成任务",
}


# --- settings -------------------------------------------------------------------------------


def fonds_code() -> str:
    code = str(getattr(settings, "ARCHIVE_FONDS_CODE", "J001"))
    if len(code) != 4:
        raise FilingError(f"全宗号应为 4 个字符，当前设置为“{code}”，请修改 ARCHIVE_FONDS_CODE。")
    return code


def category_code() -> str:
    return str(getattr(settings, "ARCHIVE_CATEGORY_CODE", "WS"))


def class_scheme() -> str:
    scheme = getattr(settings, "ARCHIVE_CLASS_SCHEME", ClassKind.ORGANISATION)
    if scheme not in ClassKind.values:
        raise FilingError(
            f"ARCHIVE_CLASS_SCHEME 只能是 organisation（机构）或 subject（问题），当前为“{scheme}”。"
        )
    return scheme


def archive_root() -> Path:
    return Path(settings.DATA_DIR) / "archive"


def item_number_for(fonds, category, year, retention, class_code, sequence) -> str:
    """档号: 全宗号-门类代码·年度-保管期限代码-机构(问题)代码-件号."""
    return f"{fonds}-{category}·{year}-{retention}-{class_code}-{sequence:04d}"


# --- digests --------------------------------------------------------------------------------


def sm3_available() -> bool:
    return "sm3" in hashlib.algorithms_available


def digests(data: bytes) -> tuple[str, str]:
    sha = hashlib.sha256(data).hexdigest()
    sm3 = hashlib.new("sm3", data).hexdigest() if sm3_available() else ""
    return sha, sm3


def file_digests(path: Path) -> tuple[str, str]:
    """SHA-256 and SM3 (empty where hashlib lacks it) of a stored file, read in chunks
    by the same hasher the backup manifest uses."""
    result = hash_file(path)
    return result["sha256"], result.get("sm3", "")


# --- numbering ------------------------------------------------------------------------------


def take_next_sequence(fonds, category, year, retention, class_code) -> int:
    """The next 件号 in one lowest class. Call inside transaction.atomic(): the counter row
    stays locked until the caller's transaction ends, so numbers are consecutive."""
    key = dict(
        fonds_code=fonds,
        category_code=category,
        year=year,
        retention=retention,
        class_code=class_code,
    )
    counter = locked_counter(NumberCounter, **key)
    counter.last_number += 1
    NumberCounter.objects.filter(pk=counter.pk).update(last_number=counter.last_number)
    return counter.last_number


# --- defaults -------------------------------------------------------------------------------


def ensure_default_rules() -> None:
    from .defaults import ensure_defaults

    ensure_defaults(ArchiveClass, RetentionRule, class_scheme())


def default_retention(record_type: str) -> tuple[str, ArchiveClass | None]:
    rule = RetentionRule.objects.select_related("default_class").filter(record_type=record_type)
    rule = rule.first()
    if rule is None:
        raise FilingError(
            f"保管期限表中没有“{record_type}”类材料的规则，请档案员先在保管期限表中补充。"
        )
    return rule.retention, rule.default_class


def classes_for_scheme():
    return ArchiveClass.objects.filter(kind=class_scheme(), is_active=True)


def _resolve_class(code: str | None, default: ArchiveClass | None) -> ArchiveClass:
    scheme = class_scheme()
    if code:
        chosen = ArchiveClass.objects.filter(code=code).first()
        if chosen is None:
            raise FilingError(f"没有代码为“{code}”的机构（问题）。")
    else:
        chosen = default if default and default.kind == scheme else None
        if chosen is None:
            chosen = classes_for_scheme().first()
        if chosen is None:
            label = ClassKind(scheme).label
            raise FilingError(f"还没有启用的{label}代码，请档案员先在“机构（问题）代码”中添加。")
    if chosen.kind != scheme:
        raise FilingError(
            f"本全宗按{ClassKind(scheme).label}分类，不能使用{chosen.get_kind_display()}代码“{chosen.code}”。"
        )
    if not chosen.is_active:
        raise FilingError(f"代码“{chosen.code}”已停用。")
    return chosen


# --- snapshots ------------------------------------------------------------------------------


def _json_default(value):
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value)


def _blocks_to_json(blocks) -> list[dict]:
    out = []
    for block in blocks:
        kind = {Heading: "heading", Paragraph: "paragraph", Table: "table"}[type(block)]
        data = asdict(block)
        if kind == "table":
            data["rows"] = [["" if v is None else str(v) for v in row] for row in block.rows]
            data["headers"] = [str(h) for h in block.headers]
        out.append({"kind": kind, **data})
    return out


def _blocks_from_json(data) -> list:
    kinds = {"heading": Heading, "paragraph": Paragraph, "table": Table}
    return [kinds[entry.pop("kind")](**entry) for entry in (dict(e) for e in data)]


_UNSAFE = re.compile(r'[\x00-\x1f\\/:*?"<>|]+')


def _safe_names(files) -> list[tuple[str, bytes]]:
    seen: set[str] = set()
    result = []
    for name, data in files:
        clean = _UNSAFE.sub("_", Path(name).name).strip(" .") or "file"
        stem, suffix = Path(clean).stem, Path(clean).suffix
        candidate, n = clean, 1
        while candidate in seen:
            n += 1
            candidate = f"{stem}-{n}{suffix}"
        seen.add(candidate)
        result.append((candidate, data))
    return result


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)


# --- filing ---------------------------------------------------------------------------------


def _actor_name(user) -> str:
    return user.get_username() if user is not None else "系统"


def _event(item, to_status, user, note="", from_status=""):
    action = TRANSITIONS.get((from_status, to_status))
    if to_status and action is None:
        raise FilingError(f"不允许从“{from_status}”变为“{to_status}”。")
    FilingEvent.objects.create(
        item=item,
        actor=user,
        actor_name=_actor_name(user),
        action=action or note,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )


def already_filed(source_key: str, source_id: str) -> ArchiveItem | None:
    return (
        ArchiveItem.objects.filter(
            source_key=source_key, source_id=source_id, corrects__isnull=True
        )
        .order_by("pk")
        .first()
    )


def register_item(
    source_key: str,
    source_id: str,
    user,
    *,
    retention: str | None = None,
    class_code: str | None = None,
    classification: str = "",
    remarks: str = "",
    corrects: ArchiveItem | None = None,
    enqueue: bool = True,
) -> ArchiveItem:
    """Give a source record its 档号 and store its originals and snapshot; the rendition
    and digests follow in the worker (archive.tasks.file_record)."""
    if user is None or not user.has_perm(FILE_PERMISSION):
        raise PermissionDenied("您没有立卷归档的权限。")
    try:
        soffice_command()  # refuse before a number is taken
    except RenditionError as exc:
        raise FilingError(str(exc)) from None
    try:
        source = get_source(source_key)
    except LookupError as exc:
        raise FilingError(str(exc)) from None
    try:
        obj = source.load(str(source_id))
    except (source.model.DoesNotExist, ValueError, LookupError):
        raise FilingError("要归档的材料不存在或已被删除。") from None
    source_id = source.id_of(obj)
    if corrects is None:
        existing = already_filed(source_key, source_id)
        if existing is not None:
            raise FilingError(
                f"该材料已归档，档号 {existing.item_number}。如内容有误，请在该件页面归档更正件。"
            )
    elif not corrects.is_filed:
        raise FilingError("只能更正已完成归档的文件。")
    material: FilingMaterial = source.describe(obj)
    if retention is not None and retention not in Retention.values:
        raise FilingError("保管期限只能是 永久（Y）、定期30年（D30）或定期10年（D10）。")
    if classification in CLASSIFIED_LEVELS:
        raise FilingError(CLASSIFIED_REFUSAL.format(level=classification))
    if classification not in Classification.values:
        raise FilingError("密级不正确。")
    rule_retention, rule_class = default_retention(material.record_type)
    retention = retention or rule_retention
    archive_class = _resolve_class(class_code, rule_class)
    fonds, category, year = fonds_code(), category_code(), material.date.year
    files = _safe_names(material.files)
    if material.rendition_from:
        material.rendition_from = next(
            (
                safe
                for (safe, _), (orig, _) in zip(files, material.files, strict=True)
                if orig == material.rendition_from
            ),
            material.rendition_from,
        )
    if corrects is not None:
        note = f"更正 {corrects.item_number}"
        remarks = f"{note}；{remarks}" if remarks else note

    with transaction.atomic():
        sequence = take_next_sequence(fonds, category, year, retention, archive_class.code)
        number = item_number_for(fonds, category, year, retention, archive_class.code, sequence)
        item = ArchiveItem.objects.create(
            fonds_code=fonds,
            category_code=category,
            year=year,
            retention=retention,
            class_kind=archive_class.kind,
            class_code=archive_class.code,
            sequence=sequence,
            item_number=number,
            doc_number=material.doc_number[:100],
            responsible=material.responsible[:200],
            title=material.title[:500],
            date=material.date,
            classification=classification,
            remarks=(remarks or material.remarks)[:500],
            record_type=material.record_type,
            source_key=source.key,
            source_type=source.content_type(),
            source_id=source_id,
            source_label=source.display(obj)[:300],
            metadata=json.loads(
                json.dumps(
                    {
                        "source": material.metadata,
                        "rendition": {
                            "blocks": _blocks_to_json(material.blocks),
                            "rendition_from": material.rendition_from,
                        },
                        "originals": [name for name, _ in files],
                    },
                    default=_json_default,
                    ensure_ascii=False,
                )
            ),
            corrects=corrects,
            filed_by=user,
            status=ItemStatus.RENDERING,
        )
        _event(item, ItemStatus.RENDERING, user, note=material.title[:200])
        package = archive_root() / number
        try:
            for name, data in files:
                _write(package / "originals" / name, data)
        except OSError:
            shutil.rmtree(package, ignore_errors=True)
            raise FilingError("无法写入归档存储区，请联系系统管理员检查磁盘。") from None
        if enqueue:
            from .tasks import file_record

            transaction.on_commit(lambda: file_record.delay(item.pk))
    return item


def retry_item(item: ArchiveItem, user) -> ArchiveItem:
    if user is None or not user.has_perm(FILE_PERMISSION):
        raise PermissionDenied("您没有立卷归档的权限。")
    if item.status == ItemStatus.FILED:
        raise FilingError("该文件已完成归档，无需重新生成。")
    with transaction.atomic():
        ArchiveItem.objects.filter(pk=item.pk).update_unfiled(
            status=ItemStatus.RENDERING, status_message=""
        )
        # A 正在生成 item whose task was lost (worker stopped) is simply queued again.
        _event(item, ItemStatus.RENDERING, user, from_status=item.status)
        from .tasks import file_record

        transaction.on_commit(lambda: file_record.delay(item.pk))
    item.refresh_from_db()
    return item


def _material_from_snapshot(item: ArchiveItem) -> FilingMaterial:
    package = archive_root() / item.item_number
    rendition = item.metadata.get("rendition", {})
    files = [
        (name, (package / "originals" / name).read_bytes())
        for name in item.metadata.get("originals", [])
    ]
    return FilingMaterial(
        title=item.title,
        date=item.date,
        record_type=item.record_type,
        doc_number=item.doc_number,
        responsible=item.responsible,
        files=files,
        blocks=_blocks_from_json(rendition.get("blocks", [])),
        rendition_from=rendition.get("rendition_from"),
        metadata=item.metadata.get("source", {}),
    )


def _stamp(item: ArchiveItem) -> StampFields:
    return StampFields(
        fonds_code=item.fonds_code,
        year=item.year,
        sequence=item.sequence,
        class_code=item.class_code,
        retention_label=item.retention,
    )


def metadata_document(item: ArchiveItem, files: list[dict]) -> dict:
    return {
        "档号": item.item_number,
        "全宗号": item.fonds_code,
        "门类": item.category_code,
        "年度": item.year,
        "保管期限": item.retention,
        "机构（问题）类别": item.get_class_kind_display(),
        "机构（问题）": item.class_code,
        "件号": f"{item.sequence:04d}",
        "文号": item.doc_number,
        "责任者": item.responsible,
        "题名": item.title,
        "日期": item.date_digits,
        "密级": item.classification or "无",
        "页数": item.page_count,
        "备注": item.remarks,
        "材料类型": item.record_type,
        "来源": {
            "登记": item.source_key,
            "类型": item.source_type.app_label + "." + item.source_type.model,
            "编号": item.source_id,
            "名称": item.source_label,
        },
        "更正": item.corrects.item_number if item.corrects_id else None,
        "归档人": item.filed_by.get_full_name() if item.filed_by_id else "系统",
        "登记时间": timezone.localtime(item.created_at).isoformat(),
        "来源元数据": item.metadata.get("source", {}),
        "文件": files,
        "摘要算法": ["SHA-256", "SM3"] if sm3_available() else ["SHA-256"],
    }


def build_packages(item_ids: list[int]) -> dict[int, str]:
    """Make the renditions, metadata and digests of items waiting for them; returns
    {item id: error message} for the ones that failed (marked 生成失败)."""
    items = list(
        ArchiveItem.objects.filter(pk__in=item_ids, status=ItemStatus.RENDERING)
        .select_related("source_type", "corrects", "filed_by")
        .order_by("pk")
    )
    failures: dict[int, str] = {}
    if not items:
        return failures
    try:
        materials = [_material_from_snapshot(item) for item in items]
        renditions = render(
            [
                RenditionJob(material=m, stamp=_stamp(i))
                for m, i in zip(materials, items, strict=True)
            ]
        )
    except (RenditionError, OSError) as exc:
        message = str(exc) if isinstance(exc, RenditionError) else f"读取原件失败：{exc}"
        if len(items) > 1 and isinstance(exc, RenditionError):
            # One bad item must not fail the others: render them one by one.
            for item in items:
                failures.update(build_packages([item.pk]))
            return failures
        for item in items:
            _fail(item, message)
            failures[item.pk] = message
        return failures
    for item, rendition in zip(items, renditions, strict=True):
        try:
            _finish(item, rendition)
        except OSError as exc:
            message = f"无法写入归档存储区：{exc}"
            _fail(item, message)
            failures[item.pk] = message
    return failures


def _fail(item: ArchiveItem, message: str) -> None:
    with transaction.atomic():
        ArchiveItem.objects.filter(pk=item.pk).update_unfiled(
            status=ItemStatus.FAILED, status_message=message
        )
        _event(item, ItemStatus.FAILED, None, note=message, from_status=ItemStatus.RENDERING)
    if item.filed_by_id:
        from cms.notifications.services import notify

        notify(
            [item.filed_by],
            f"归档文件生成失败：{item.item_number}",
            body=message,
            url=item.get_absolute_url(),
            category="archive",
        )


def _described(role, name, rel, data: bytes) -> dict:
    sha, sm3 = digests(data)
    return {"role": role, "name": name, "path": rel, "size": len(data), "sha256": sha, "sm3": sm3}


def _finish(item: ArchiveItem, rendition) -> None:
    """Write the package and freeze the item. Everything is computed first; the item row is
    then locked so that two workers finishing the same item cannot both write."""
    package = archive_root() / item.item_number
    item.page_count = rendition.page_count
    described = [
        _described(
            FileRole.ORIGINAL,
            name,
            f"originals/{name}",
            (package / "originals" / name).read_bytes(),
        )
        for name in item.metadata.get("originals", [])
    ]
    described.append(
        _described(FileRole.RENDITION, "rendition.pdf", "rendition.pdf", rendition.pdf)
    )
    meta = json.dumps(
        metadata_document(item, described), ensure_ascii=False, indent=2, default=_json_default
    ).encode("utf-8")
    described.append(_described(FileRole.METADATA, "metadata.json", "metadata.json", meta))
    lines = [f"{d['sha256']}  {d['sm3'] or '-'}  {d['path']}" for d in described]
    digest_text = ("# SHA-256  SM3  文件\n" + "\n".join(lines) + "\n").encode("utf-8")
    described.append(_described(FileRole.METADATA, "digests.txt", "digests.txt", digest_text))
    with transaction.atomic():
        still_pending = (
            ArchiveItem.objects.select_for_update()
            .filter(pk=item.pk, status=ItemStatus.RENDERING)
            .exists()
        )
        if not still_pending:
            return  # finished (or failed) by another worker meanwhile
        _write(package / "rendition.pdf", rendition.pdf)
        _write(package / "metadata.json", meta)
        _write(package / "digests.txt", digest_text)
        for entry in described:
            ArchiveFile.objects.create(
                item=item,
                role=entry["role"],
                name=entry["name"],
                relative_path=f"{item.item_number}/{entry['path']}",
                size=entry["size"],
                sha256=entry["sha256"],
                sm3=entry["sm3"],
            )
        ArchiveItem.objects.filter(pk=item.pk).update_unfiled(
            status=ItemStatus.FILED,
            status_message="",
            page_count=rendition.page_count,
            filed_at=timezone.now(),
        )
        _event(item, ItemStatus.FILED, None, from_status=ItemStatus.RENDERING)
        # queryset.update sends no signal: index the finished row (after commit).
        item.refresh_from_db()
        index.insert_or_update_object(item)


def file_path(archive_file: ArchiveFile) -> Path:
    return archive_root() / archive_file.relative_path


DOWNLOAD_ROLE_NAMES = {"rendition": "版式文件", "original": "原件", "metadata": "元数据"}


def download_name(archive_file: ArchiveFile) -> str:
    """The name a download is saved under: 档号, 题名 and what the file is, in Chinese
    (“J001-WS·2026-Y-YSGW-0001 关于……的通报 版式文件.pdf”), not the package's own name."""
    item = archive_file.item
    suffix = Path(archive_file.name).suffix.lower()
    what = DOWNLOAD_ROLE_NAMES.get(archive_file.role, "")
    title = re.sub(r'[\x00-\x1f\\/:*?"<>|]+', " ", item.title).strip()[:60]
    return " ".join(part for part in (item.item_number, title, what) if part) + suffix


# --- access register (利用登记) ---------------------------------------------------------------


def purpose_min_length() -> int:
    return int(getattr(settings, "ARCHIVE_ACCESS_PURPOSE_MIN_LENGTH", 2))


def clean_purpose(purpose: str) -> str:
    purpose = (purpose or "").strip()
    if len(purpose) < purpose_min_length():
        raise FilingError(f"请写明利用目的（至少 {purpose_min_length()} 个字）。")
    return purpose[:1000]


def record_access(request, item, action, purpose="", archive_file=None) -> AccessRecord:
    from cms.usage.services import client_address, record_restricted_view

    record = AccessRecord.objects.create(
        item=item,
        file=archive_file,
        user=request.user,
        username=request.user.get_username(),
        action=action,
        purpose=purpose,
        ip_address=client_address(request),
    )
    what = f"下载 {archive_file.name}" if action == AccessAction.DOWNLOAD else "查阅"
    record_restricted_view(request, item, detail=f"{what}；利用目的：{purpose or '未填写'}")
    return record


# --- retention review (鉴定) ----------------------------------------------------------------


def retention_end_year(item: ArchiveItem) -> int | None:
    """The last year of the period, counting extensions; None for 永久 or decided items."""
    last = item.appraisals.order_by("-at", "-id").first()
    if last is not None and last.decision != Decision.EXTEND:
        return None
    if last is not None:
        return last.extend_to_year
    years = RETENTION_YEARS.get(item.retention)
    return item.year + years if years else None


def due_for_appraisal(today: datetime.date | None = None) -> list[tuple[ArchiveItem, int]]:
    today = today or timezone.localdate()
    candidates = (
        ArchiveItem.objects.filed()
        .filter(retention__in=list(RETENTION_YEARS))
        .prefetch_related("appraisals")
        .order_by("year", "retention", "class_code", "sequence")
    )
    due = []
    for item in candidates:
        end = retention_end_year(item)
        if end is not None and end < today.year:
            due.append((item, end))
    return due


def decide_appraisal(item, user, decision, reason, extend_to_year=None, today=None):
    if user is None or not user.has_perm(FILE_PERMISSION):
        raise PermissionDenied("您没有鉴定归档文件的权限。")
    today = today or timezone.localdate()
    if decision not in Decision.values:
        raise FilingError("请选择鉴定结论。")
    reason = (reason or "").strip()
    if not reason:
        raise FilingError("请填写鉴定理由。")
    end = retention_end_year(item)
    if end is None or end >= today.year:
        raise FilingError("该文件的保管期限尚未届满，或已作出鉴定结论。")
    if decision == Decision.EXTEND:
        if not extend_to_year or int(extend_to_year) <= today.year:
            raise FilingError(f"延长保管应填写 {today.year} 年以后的年份。")
        extend_to_year = int(extend_to_year)
    else:
        extend_to_year = None
    return AppraisalDecision.objects.create(
        item=item,
        decision=decision,
        extend_to_year=extend_to_year,
        reason=reason,
        decided_by=user,
        decided_by_name=user.get_username(),
    )
