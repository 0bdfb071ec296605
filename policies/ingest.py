"""Ingestion of policy files: receive (check, digest, store the original untouched), then
process (extract, detect, check duplicates, create a draft or published PolicyPage).

receive() is quick and runs in the request; process() runs in the Celery task, or inline
for the import command. Neither ever raises for bad input: the PolicyFile row carries the
status and a Chinese message."""

import hashlib
import io
import logging
import os
import socket
import uuid
import zipfile
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from wagtail.actions.publish_page_revision import PublishPagePermissionError
from wagtail.models import Page, ReferenceIndex
from wagtail.search import index as search_index
from wagtail.signal_handlers import disable_reference_index_auto_update

from cms.uploads import UploadRefused, check_upload
from search import indexing

from . import detection
from .choices import IngestStatus, RelationKind, Validity
from .extraction import (
    NEEDS_OCR_MESSAGE,
    SUPPORTED_EXTENSIONS,
    ExtractionError,
    check_zip_safe,
    extension_of,
    extract,
    max_upload_bytes,
    read_member,
)
from .models import PolicyFile, PolicyPage, PolicyRelation

logger = logging.getLogger(__name__)


NO_PUBLISH_PERMISSION_MESSAGE = (
    "上传者没有在政策法规库发布文件的权限，未建立页面（原件已保留）。"
    "请改为导入草稿，或请有发布权限的工作人员导入。"
)
LIVE_STATUSES = (IngestStatus.PENDING, IngestStatus.PROCESSING, IngestStatus.CREATED)
UNFINISHED = (IngestStatus.PENDING, IngestStatus.PROCESSING)
#: A claim older than this is taken over even if its process seems alive (extraction has
#: its own much shorter time limit).
STALE_CLAIM_SECONDS = 15 * 60
#: A queued file nobody claimed for this long lost its task message: it is queued again.
LOST_TASK_SECONDS = 5 * 60


def worker_id() -> str:
    return f"{os.getpid()}@{socket.gethostname()}"[:100]


def _claimant_gone(claimed_by: str, claimed_at) -> bool:
    if not claimed_by:
        return True
    if claimed_at and (timezone.now() - claimed_at).total_seconds() > STALE_CLAIM_SECONDS:
        return True
    pid, _at, host = claimed_by.partition("@")
    if host != socket.gethostname():
        return False  # another machine's process: only the age rule applies
    if claimed_by == worker_id():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (ValueError, PermissionError):
        return False
    return False


class UnsafeName(ValueError):
    pass


def new_batch() -> str:
    return uuid.uuid4().hex


def safe_filename(name: str) -> str:
    """The name as given, refused when it carries a path (../, /, \\, a drive) or control
    characters; an original is stored under its own name, never a path it chose."""
    name = (name or "").strip()
    if not name:
        raise UnsafeName("文件名为空。")
    if "/" in name or "\\" in name or name in (".", "..") or ":" in name[:3]:
        raise UnsafeName(f"文件名“{name}”不合法：不得包含路径（如 ../ 或 /），请重命名后再上传。")
    if any(ord(ch) < 32 for ch in name):
        raise UnsafeName("文件名含有控制字符，请重命名后再上传。")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 190 - len(ext)] + dot + ext) if dot else name[:200]
    return name


def _error(name, message, user=None, batch="", size=0, publish=False) -> PolicyFile:
    return PolicyFile.objects.create(
        original_name=(name or "（无文件名）")[:255],
        size=size,
        status=IngestStatus.ERROR,
        message=message,
        uploaded_by=user,
        batch=batch,
        publish=publish,
        finished_at=timezone.now(),
    )


def receive(name: str, data: bytes, user=None, publish=False, batch="", enqueue=True) -> PolicyFile:
    """Check and store one file; queue its processing after commit when *enqueue* is
    True; ``enqueue=False``: the caller processes it at once (this process claims it);
    ``enqueue=LATER``: the caller queues several together (:func:`queue_together`)."""
    try:
        name = safe_filename(name)
    except UnsafeName as error:
        return _error(name, str(error), user, batch, len(data or b""), publish)
    if len(data) > max_upload_bytes():
        return _error(
            name,
            f"文件过大（{len(data) / 1048576:.1f} MB），超过上限 {max_upload_bytes() / 1048576:.0f} MB。",
            user,
            batch,
            len(data),
            publish,
        )
    if not data:
        return _error(name, "文件为空（0 字节），没有可导入的内容。", user, batch, 0, publish)
    ext = extension_of(name)
    if ext not in SUPPORTED_EXTENSIONS:
        return _error(
            name,
            f"不支持的文件类型“.{ext or '无扩展名'}”，请上传 PDF、DOCX、TXT 或 Markdown 文件（多个文件可打包为 ZIP）。",
            user,
            batch,
            len(data),
            publish,
        )
    try:
        check_upload(name, data, "policy")  # type by content, the same check as every upload
    except UploadRefused as error:
        return _error(name, error.messages[0], user, batch, len(data), publish)
    digest = hashlib.sha256(data).hexdigest()
    twin = _live_twin(digest)
    if twin is not None:
        return _duplicate(twin, name, digest, len(data), user, batch, publish)
    record = PolicyFile(
        original_name=name,
        sha256=digest,
        size=len(data),
        uploaded_by=user,
        batch=batch,
        publish=publish,
    )
    if enqueue is False:  # the caller processes it at once: it is this process's work
        record.claimed_by = worker_id()
        record.claimed_at = timezone.now()
    record.file.save(name, ContentFile(data), save=False)
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        # the same content was received at the same moment by another request or import;
        # the database's unique rule on the digest decided which one goes on
        record.file.delete(save=False)
        twin = _live_twin(digest)
        if twin is None:
            raise
        return _duplicate(twin, name, digest, len(data), user, batch, publish)
    except Exception:
        record.file.delete(save=False)  # no orphan original when the row could not be written
        raise
    if enqueue is True:
        from .tasks import process_policy_file

        transaction.on_commit(lambda: process_policy_file.delay(record.pk))
    return record


def _live_twin(digest: str):
    """The file with this content that is queued, being processed or imported, if any.
    (Looked for by key first: most files have none, and the query with the page's columns
    costs the ORM several times as much to build.)"""
    found = (
        PolicyFile.objects.filter(sha256=digest, status__in=LIVE_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if found is None:
        return None
    return PolicyFile.objects.select_related("page").filter(pk=found).first()


def _duplicate(twin, name, digest, size, user, batch, publish) -> PolicyFile:
    if twin.page is not None:
        message = f"与已导入的文件《{twin.page.title}》内容完全相同（SHA-256 一致），未重复导入。"
    else:
        message = (
            f"与正在导入的文件“{twin.original_name}”内容完全相同（SHA-256 一致），未重复导入。"
        )
    return PolicyFile.objects.create(
        original_name=name,
        sha256=digest,
        size=size,
        status=IngestStatus.DUPLICATE,
        duplicate_of=twin.page,
        message=message,
        uploaded_by=user,
        batch=batch,
        publish=publish,
        finished_at=timezone.now(),
    )


LATER = "later"


def queue_together(records) -> None:
    """One worker task for the unfinished files of one upload (many files or a ZIP): it
    processes them in order and writes the index in batches."""
    from .tasks import process_policy_files

    ids = [record.pk for record in records if not record.is_finished]
    if ids:
        transaction.on_commit(lambda: process_policy_files.delay(ids))


def receive_zip(name: str, data: bytes, user=None, publish=False, batch="", enqueue=True):
    """Every supported member of a ZIP, each received as its own file; the archive's size
    is checked from the declared sizes before anything is decompressed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return [_error(name, "压缩包已损坏，无法打开。", user, batch, len(data), publish)]
    records = []
    with archive:
        try:
            check_zip_safe(archive, "压缩包")
        except ExtractionError as error:
            return [_error(name, str(error), user, batch, len(data), publish)]
        for info in archive.infolist():
            if info.is_dir():
                continue
            member = _member_name(info)
            base = member.rsplit("/", 1)[-1]
            if member.startswith("__MACOSX/") or base.startswith("."):
                continue
            parts = member.split("/")
            if member.startswith("/") or ".." in parts or "\\" in member or ":" in member[:3]:
                records.append(
                    _error(
                        member,
                        f"压缩包中的“{member}”路径不安全（含 ../ 或绝对路径），已跳过。",
                        user,
                        batch,
                        info.file_size,
                        publish,
                    )
                )
                continue
            if info.file_size > max_upload_bytes():
                records.append(
                    _error(
                        base,
                        f"压缩包中的“{base}”过大（{info.file_size / 1048576:.1f} MB），超过上限。",
                        user,
                        batch,
                        info.file_size,
                        publish,
                    )
                )
                continue
            if info.flag_bits & 0x1:
                records.append(
                    _error(base, f"压缩包中的“{base}”已加密，无法读取。", user, batch, 0, publish)
                )
                continue
            try:
                content = read_member(archive, info, "压缩包")
            except (ExtractionError, zipfile.BadZipFile, OSError, EOFError) as error:
                message = (
                    str(error) if isinstance(error, ExtractionError) else "压缩包中的文件已损坏。"
                )
                records.append(_error(base, message, user, batch, info.file_size, publish))
                continue
            records.append(receive(base, content, user, publish, batch, enqueue))
    return records


def _member_name(info: zipfile.ZipInfo) -> str:
    """Member names of ZIPs made on Chinese Windows are GBK without the UTF-8 flag."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def receive_upload(name: str, data: bytes, user=None, publish=False, batch="", enqueue=True):
    if extension_of(name or "") == "zip":
        if len(data) > max_upload_bytes():
            return [
                _error(
                    name,
                    f"压缩包过大（{len(data) / 1048576:.1f} MB），超过上限 {max_upload_bytes() / 1048576:.0f} MB。",
                    user,
                    batch,
                    len(data),
                    publish,
                )
            ]
        return receive_zip(name, data, user, publish, batch, enqueue)
    return [receive(name, data, user, publish, batch, enqueue)]


# --- processing --------------------------------------------------------------------------


def claim(file_id: int) -> bool:
    """Take a queued file, or one whose process died, for this process (compare-and-set,
    so two workers never process the same file)."""
    row = (
        PolicyFile.objects.filter(pk=file_id, status__in=UNFINISHED)
        .values("status", "claimed_by", "claimed_at")
        .first()
    )
    if row is None:
        return False
    me = worker_id()
    if row["claimed_by"] not in ("", me) and not _claimant_gone(
        row["claimed_by"], row["claimed_at"]
    ):
        return False
    return bool(
        PolicyFile.objects.filter(
            pk=file_id, status__in=UNFINISHED, claimed_by=row["claimed_by"]
        ).update(status=IngestStatus.PROCESSING, claimed_by=me, claimed_at=timezone.now())
    )


def process(file_id: int) -> PolicyFile:
    """Process one received file. The page, its articles and the record's final status
    are one transaction: a crash leaves either all of them or none (and the record
    unfinished, for :func:`recover_unfinished`)."""
    if not claim(file_id):
        return PolicyFile.objects.get(pk=file_id)
    record = PolicyFile.objects.select_related("uploaded_by").get(pk=file_id)
    try:
        for attempt in range(3):
            try:
                with transaction.atomic():
                    _process(record)
                    record.finished_at = timezone.now()
                    record.save()
                return record
            except IntegrityError:
                # another import placed a page under the library at the same moment (the
                # tree path or slug it computed was taken): compute them again
                if attempt == 2:
                    raise
                record = PolicyFile.objects.select_related("uploaded_by").get(pk=file_id)
    except (ExtractionError, PublishPagePermissionError) as error:
        record.status = IngestStatus.ERROR
        record.message = str(error)
    except Exception as error:  # the worker must survive any file
        logger.exception("policy file %s failed", record.pk)
        record.status = IngestStatus.ERROR
        record.message = (
            f"处理文件时发生内部错误（{type(error).__name__}），原件已保留，请联系系统管理员。"
        )
    record.page = None  # the transaction rolled back: no page was made
    record.duplicate_of = None
    record.finished_at = timezone.now()
    record.save()
    return record


def recover_unfinished(enqueue: bool = True) -> dict:
    """Find files left queued or processing by a process that died (kill -9, a lost task
    message) and finish them: processed here, or queued again for the worker."""
    from .tasks import process_policy_file

    done = {"processed": 0, "queued": 0}
    now = timezone.now()
    for row in PolicyFile.objects.filter(status__in=UNFINISHED).values(
        "pk", "status", "claimed_by", "claimed_at", "created_at"
    ):
        if row["claimed_by"]:
            if not _claimant_gone(row["claimed_by"], row["claimed_at"]):
                continue
        elif (now - row["created_at"]).total_seconds() < LOST_TASK_SECONDS:
            continue  # its task is probably still in the queue
        if enqueue:
            process_policy_file.delay(row["pk"])
            done["queued"] += 1
        else:
            process(row["pk"])
            done["processed"] += 1
    return done


def _process(record: PolicyFile) -> None:
    with record.file.open("rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != record.sha256:
        raise ExtractionError("存储的原件与上传时的摘要不一致，可能已被改动，已停止处理。")
    extracted = extract_in_worker(data, record.original_name)
    stem = os.path.splitext(record.original_name)[0]
    found = detection.detect(extracted.text, fallback_title=stem)
    if not found.title:
        found.title = stem
    record.detected = {
        "title": found.title,
        "doc_number": found.doc_number,
        "issuer": found.issuer,
        "written_on": found.written_on.isoformat() if found.written_on else None,
        "issued_on": found.issued_on.isoformat() if found.issued_on else None,
        "effective_on": found.effective_on.isoformat() if found.effective_on else None,
        "effect_level": found.effect_level,
        "articles": found.article_count,
        "pages": extracted.pages,
        "needs_ocr": extracted.needs_ocr,
    }
    if found.doc_number:
        # Two files with the same 文号 processed at once (two imports, two workers) must not
        # both pass this check: the library page's row is locked until this transaction
        # ends, so the second waits and then finds the first one's page. (SQLite's
        # transactions are IMMEDIATE: they are serialised already.)
        from .services import ensure_index_page

        library = ensure_index_page()
        list(Page.objects.select_for_update().filter(pk=library.pk).values_list("pk"))
        twin = PolicyPage.objects.filter(doc_number=found.doc_number).first()
        if twin:
            record.status = IngestStatus.DUPLICATE
            record.duplicate_of = twin
            record.message = f"文号“{found.doc_number}”已存在于《{twin.title}》，未重复导入。"
            return
    with transaction.atomic():
        page = create_page(record, found, extracted.text, extracted.needs_ocr)
    record.page = page
    record.status = IngestStatus.CREATED
    notes = []
    if extracted.needs_ocr:
        notes.append(f"{NEEDS_OCR_MESSAGE}：已保留原件并建立待处理的草稿。")
    notes.append(f"识别到 {found.article_count} 条。")
    notes.append("已发布。" if record.publish else "草稿，待工作人员审核后发布。")
    record.message = "".join(notes)


def extract_in_worker(data: bytes, name: str):
    """PDF and DOCX are read in a child process under memory, CPU and time limits (a
    hostile file cannot take the worker down); plain text is read here."""
    from django.conf import settings

    from .extract_child import extract_limited

    if extension_of(name) in ("pdf", "docx") and getattr(settings, "POLICY_EXTRACT_IN_CHILD", True):
        return extract_limited(data, name)
    return extract(data, name)


def unique_slug(parent, title: str) -> str:
    base = slugify(title, allow_unicode=True)[:60].strip("-") or "policy"
    taken = set(parent.get_children().filter(slug__startswith=base).values_list("slug", flat=True))
    slug, counter = base, 1
    while slug in taken:
        counter += 1
        slug = f"{base}-{counter}"
    return slug


def create_page(record: PolicyFile, found: detection.Detection, text: str, needs_ocr: bool):
    from .services import apply_relation_effects, ensure_index_page

    parent = ensure_index_page()
    today = timezone.localdate()
    status = Validity.CURRENT
    if found.effective_on and found.effective_on > today:
        status = Validity.PENDING
    page = PolicyPage(
        title=found.title,
        slug=unique_slug(parent, found.title),
        doc_number=found.doc_number,
        issuer=found.issuer[:100],
        effect_level=found.effect_level,
        status=status,
        written_on=found.written_on,
        issued_on=found.issued_on,
        effective_on=found.effective_on,
        body_text=detection.body_without_head(text, found.title).strip(),
        needs_ocr=needs_ocr,
        # a page imported with 发布 is live from its first save, which validates it in full
        # and makes its article rows (publish_new_page below completes the publication)
        live=record.publish,
        owner=record.uploaded_by,
        # what Wagtail would look up for a new page (its parent's locale), from the parent in hand
        locale_id=parent.locale_id,
    )
    # a new page, with a translation key of its own, is no site's root (Wagtail would ask
    # the database after its first save; the attribute is the one its querysets annotate)
    page._is_site_root = False
    earlier = None
    if found.issued_on:  # an earlier version (by key first: most statutes have none)
        earlier_pk = (
            PolicyPage.objects.filter(title=found.title, issued_on__lt=found.issued_on)
            .order_by("-issued_on")
            .values_list("pk", flat=True)
            .first()
        )
        if earlier_pk is not None:
            earlier = PolicyPage.objects.get(pk=earlier_pk)
    if earlier:
        page.relations.add(
            PolicyRelation(kind=RelationKind.REVISES, target=earlier, note="按标题与日期自动关联")
        )
    # Wagtail updates a page's reference index after each of its saves (two here:
    # created, revision); the page's references are recorded once, from its final state,
    # as the last save would have.
    # Likewise the search index: the page's document is built from its final state only.
    with disable_reference_index_auto_update():
        with indexing.held_writes(PolicyPage):
            parent.add_child(instance=page)
            # the page was validated by the save just made and has not changed since
            revision = page.save_revision(user=record.uploaded_by, log_action=True, clean=False)
        if record.publish:
            publish_new_page(page, revision, record.uploaded_by)
            if earlier:  # the only relation a new page can have
                apply_relation_effects(page)
        search_index.insert_or_update_object(page)
    # what Wagtail's update_reference_index_task does, from the page in hand (the task
    # would read it back from the database first)
    ReferenceIndex.create_or_update_for_object(page)
    return page


def publish_new_page(page: PolicyPage, revision, user) -> None:
    """Publish ``revision``, the first and only revision of ``page``, a page made live by
    its first save: the state, log entry and signal of Wagtail's ``revision.publish()``.

    Wagtail's publication rebuilds the page from the revision's JSON and saves it again in
    full (validation, child relations, the article rows compared once more), then looks for
    comments, workflows, earlier revisions and aliases a page made a moment ago cannot have:
    ~25 queries a statute and about an eighth of the import process's CPU (docs/search.md,
    "Fifth round"). The result is the same rows (tests/policies/test_ingest.py compares
    the two)."""
    from wagtail.log_actions import log
    from wagtail.signals import page_published

    if not page.live or revision.pk != page.latest_revision_id or page.go_live_at:
        raise ValueError("publish_new_page() publishes a new live page's only revision")
    if user is not None and not page.permissions_for_user(user).can_publish():
        raise PublishPagePermissionError(NO_PUBLISH_PERMISSION_MESSAGE)
    now = timezone.now()
    state = {
        "live_revision": revision,
        "has_unpublished_changes": False,
        "expired": False,
        "first_published_at": now,
        "last_published_at": now,
    }
    Page.objects.filter(pk=page.pk).update(**state)
    for name, value in state.items():
        setattr(page, name, value)
    page_published.send(sender=type(page), instance=page, revision=revision)
    log(instance=page, action="wagtail.publish", user=user, revision=revision, content_changed=True)


# --- reporting ------------------------------------------------------------------------


def page_link(page, site_root_paths=None) -> str:
    """The page's address on the site, or its editor's in the admin while it is not live.
    ``site_root_paths``: ``Site.get_site_root_paths()`` read once for many pages (Wagtail
    reads it from the cache for each page object otherwise: a file read with the
    file-based cache)."""
    if page is None:
        return ""
    if page.live:
        if site_root_paths is not None:
            # where Page._get_site_root_paths keeps what it read for this page object
            page._wagtail_cached_site_root_paths = site_root_paths
        url = page.url
        if url:
            return url
    return reverse("wagtailadmin_pages:edit", args=[page.pk])


@dataclass
class Report:
    record: PolicyFile
    path: str = ""
    #: the page's address costs Wagtail's site look-up: left out where nobody reads it
    #: (the import command's text output)
    with_url: bool = True
    #: Site.get_site_root_paths() shared by the reports of one run (see page_link)
    site_root_paths: list | None = None

    def as_dict(self) -> dict:
        record = self.record
        detected = record.detected or {}
        page = record.page
        linked = page or record.duplicate_of
        status = {
            IngestStatus.CREATED: "created",
            IngestStatus.DUPLICATE: "duplicate",
        }.get(record.status, "error")
        if page is not None:
            title, number, issuer = page.title, page.doc_number, page.issuer
            issued, effective, articles = page.issued_on, page.effective_on, page.article_count
        else:
            title = detected.get("title") or ""
            number = detected.get("doc_number") or ""
            issuer = detected.get("issuer") or ""
            issued = detected.get("issued_on")
            effective = detected.get("effective_on")
            articles = detected.get("articles") or 0
        error = None
        if status == "error":
            error = record.message
        elif status == "duplicate":
            error = record.message
        elif page is not None and page.needs_ocr:
            error = NEEDS_OCR_MESSAGE
        return {
            "file": self.path or record.original_name,
            "status": status,
            "title": title or None,
            "doc_number": number or None,
            "issuer": issuer or None,
            "issued_on": _iso(issued),
            "effective_on": _iso(effective),
            "articles": articles,
            "url": (page_link(linked, self.site_root_paths) or None) if self.with_url else None,
            "error": error,
        }


def _iso(value):
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else value.isoformat()


def import_path_data(path: str, data: bytes, publish=False, user=None, batch=""):
    """Receive and process one file from disk synchronously (the import command)."""
    name = os.path.basename(path)
    records = receive_upload(name, data, user=user, publish=publish, batch=batch, enqueue=False)
    done = []
    for record in records:
        if not record.is_finished:
            record = process(record.pk)
        done.append(record)
    return done
