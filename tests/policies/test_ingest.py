import hashlib
import io
import json

import pytest
from django.core.management import call_command

from policies import ingest
from policies.choices import IngestStatus, RelationKind, Validity
from policies.management.commands.import_policies import Work, progress_line
from policies.models import PolicyArticle, PolicyFile, PolicyPage

from .files import (
    SAMPLE_NOTICE,
    make_blank_pdf,
    make_docx,
    make_encrypted_pdf,
    make_pdf,
    make_zeros_zip,
    make_zip,
)

pytestmark = pytest.mark.django_db


def run(name, data, publish=False):
    return ingest.import_path_data(name, data, publish=publish)


def test_text_file_becomes_a_draft_with_the_original_kept():
    data = SAMPLE_NOTICE.encode("utf-8")
    (record,) = run("notice.txt", data)
    assert record.status == IngestStatus.CREATED, record.message
    page = record.page
    assert not page.live
    assert page.doc_number == "元政办发〔2021〕7号"
    assert page.issuer == "元江县人民政府办公室"
    assert page.article_count == 6
    assert str(page.effective_on) == "2021-05-01"
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    with record.file.open("rb") as handle:
        assert handle.read() == data  # untouched
    assert "待工作人员审核" in record.message
    # drafts have no article rows (nothing unpublished reaches search)
    assert not PolicyArticle.objects.filter(page=page).exists()


def test_publish_creates_articles_with_anchors():
    (record,) = run("notice.txt", SAMPLE_NOTICE.encode(), publish=True)
    page = PolicyPage.objects.get(pk=record.page_id)
    assert page.live
    labels = list(page.articles.values_list("label", flat=True))
    assert labels == ["第一条", "第二条", "第三条", "第三条之一", "第四条", "第五条"]
    article = page.articles.get(label="第三条")
    assert article.get_absolute_url().endswith("#第三条")
    assert article.section == "第一节 目标设定"


def test_unpublish_removes_article_rows():
    (record,) = run("notice.txt", SAMPLE_NOTICE.encode(), publish=True)
    page = PolicyPage.objects.get(pk=record.page_id)
    page.unpublish()
    assert not PolicyArticle.objects.filter(page=page).exists()


def test_same_file_twice_is_a_duplicate_with_a_link():
    data = SAMPLE_NOTICE.encode()
    (first,) = run("a.txt", data)
    (second,) = run("copy-of-a.txt", data)
    assert second.status == IngestStatus.DUPLICATE
    assert second.duplicate_of_id == first.page_id
    report = ingest.Report(second).as_dict()
    assert report["status"] == "duplicate"
    assert report["url"] == f"/admin/pages/{first.page_id}/edit/"
    assert PolicyPage.objects.count() == 1
    assert not second.file  # nothing stored twice


def test_same_doc_number_is_a_duplicate():
    run("a.txt", SAMPLE_NOTICE.encode())
    changed = SAMPLE_NOTICE.replace("元政办发〔2021〕7号", "元政办发[2021]07号") + "\n补充说明。"
    (second,) = run("b.txt", changed.encode())
    assert second.status == IngestStatus.DUPLICATE
    assert "元政办发〔2021〕7号" in second.message
    assert PolicyPage.objects.count() == 1


def test_pdf_and_docx_are_imported():
    pdf = make_pdf(
        [
            [
                "元江县政府采购内部控制规定",
                "第一条 为了规范采购，制定本规定。",
                "第二条 本规定自2022年1月1日起施行。",
            ]
        ]
    )
    (record,) = run("rule.pdf", pdf)
    assert record.status == IngestStatus.CREATED, record.message
    assert record.page.article_count == 2
    docx = make_docx(
        ["元江县国有资产出租管理办法"], numbered=["为了管好国有资产。", "出租应当公开招租。"]
    )
    (record,) = run("rule.docx", docx)
    assert record.page.article_count == 2


def test_encrypted_pdf_is_an_error_and_the_original_is_kept():
    (record,) = run("secret.pdf", make_encrypted_pdf(["第一条 机密。"]))
    assert record.status == IngestStatus.ERROR
    assert "已加密" in record.message
    assert record.file and record.page is None
    assert PolicyPage.objects.count() == 0


def test_pdf_without_text_layer_is_kept_and_flagged():
    (record,) = run("scan.pdf", make_blank_pdf(2))
    assert record.status == IngestStatus.CREATED
    assert record.page.needs_ocr
    assert "无文字层，需要 OCR" in record.message
    assert ingest.Report(record).as_dict()["error"] == "无文字层，需要 OCR"


def test_corrupt_docx():
    (record,) = run("broken.docx", b"PK\x03\x04broken")
    assert record.status == IngestStatus.ERROR
    assert "DOCX 文件已损坏" in record.message


def test_zip_bomb_upload_is_refused_without_storing(settings):
    settings.POLICY_MAX_EXPANDED_BYTES = 8 * 1024 * 1024
    (record,) = run("bundle.zip", make_zeros_zip("big.txt", 16 * 1024 * 1024))
    assert record.status == IngestStatus.ERROR
    assert "压缩炸弹" in record.message
    assert not record.file


def test_zip_with_unsafe_member_names_imports_the_rest():
    bundle = make_zip({"../../etc/evil.txt": b"x", "docs/notice.txt": SAMPLE_NOTICE.encode()})
    records = run("bundle.zip", bundle)
    by_status = {r.status: r for r in records}
    assert "路径不安全" in by_status[IngestStatus.ERROR].message
    assert by_status[IngestStatus.CREATED].original_name == "notice.txt"


def test_name_with_a_path_is_refused():
    record = ingest.receive("../../notice.txt", SAMPLE_NOTICE.encode(), enqueue=False)
    assert record.status == IngestStatus.ERROR
    assert "不得包含路径" in record.message
    assert not record.file


def test_size_limit_is_a_setting(settings):
    settings.POLICY_MAX_UPLOAD_BYTES = 100
    (record,) = run("long.txt", SAMPLE_NOTICE.encode())
    assert record.status == IngestStatus.ERROR
    assert "超过上限" in record.message


def test_gbk_text_file():
    (record,) = run("gbk.txt", SAMPLE_NOTICE.encode("gbk"))
    assert record.status == IngestStatus.CREATED
    assert record.page.issuer == "元江县人民政府办公室"


def test_empty_file():
    (record,) = run("empty.txt", b"")
    assert record.status == IngestStatus.ERROR
    assert "文件为空" in record.message


def test_unexpected_failure_leaves_nothing_half_written(monkeypatch):
    run("first.txt", SAMPLE_NOTICE.encode())

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(ingest, "unique_slug", explode)
    other = SAMPLE_NOTICE.replace("7号", "8号").encode()
    (record,) = run("second.txt", other)
    assert record.status == IngestStatus.ERROR
    assert "内部错误" in record.message
    assert PolicyPage.objects.count() == 1  # the earlier one is intact, no half page
    assert record.file  # the original is kept for another try


def test_upload_is_processed_by_the_task_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record = ingest.receive("notice.txt", SAMPLE_NOTICE.encode())
        assert record.status == IngestStatus.PENDING  # the upload answers at once
    record.refresh_from_db()
    assert record.status == IngestStatus.CREATED


def test_later_version_revises_the_earlier_and_marks_it(settings):
    old = "# 元江县预算审查办法\n\n2018年3月1日发布\n\n第一条 旧的内容。\n"
    new = "# 元江县预算审查办法\n\n2022年3月1日发布\n\n第一条 新的内容。\n第二条 补充。\n"
    (first,) = run("old.md", old.encode(), publish=True)
    (second,) = run("new.md", new.encode(), publish=True)
    relation = second.page.relations.get()
    assert (relation.kind, relation.target_id) == (RelationKind.REVISES, first.page_id)
    earlier = PolicyPage.objects.get(pk=first.page_id)
    assert earlier.status == Validity.REVISED
    assert [p.pk for p in earlier.versions()] == [first.page_id, second.page_id]


def test_an_imported_page_is_in_the_reference_index_once_with_its_final_state():
    """The reference index is updated once after the page's saves (not after each of
    them), from what was finally saved: the new version's 修订 relation to the old one,
    its revision and its publication with their log entries."""
    from wagtail.models import PageLogEntry, ReferenceIndex

    old = "# 元江县预算审查办法\n\n2018年3月1日发布\n\n第一条 旧的内容。\n"
    new = "# 元江县预算审查办法\n\n2022年3月1日发布\n\n第一条 新的内容。\n"
    (first,) = run("old.md", old.encode(), publish=True)
    (second,) = run("new.md", new.encode(), publish=True)
    page = PolicyPage.objects.get(pk=second.page_id)
    references = ReferenceIndex.get_references_to(PolicyPage.objects.get(pk=first.page_id))
    assert [ref.object_id for ref in references] == [str(page.pk)]
    assert page.live and page.live_revision_id == page.latest_revision_id
    assert page.revisions.count() == 1
    assert list(
        PageLogEntry.objects.filter(page=page).order_by("pk").values_list("action", flat=True)
    ) == ["wagtail.create", "wagtail.edit", "wagtail.publish"]


@pytest.mark.parametrize("publish", [False, True])
def test_an_imported_page_is_indexed_once_with_its_final_state(
    fresh_index, monkeypatch, django_capture_on_commit_callbacks, publish
):
    """The page's search document is built from its last save only (the earlier saves of
    the import — created, revision — would be replaced by it), and a draft is indexed
    too: drafts are found by staff in the admin's search."""
    import search.backend
    from search import indexing

    built = []
    make_document = search.backend.make_document

    def counting(obj):
        if isinstance(obj, PolicyPage):
            built.append((obj.pk, obj.live))
        return make_document(obj)

    monkeypatch.setattr(search.backend, "make_document", counting)
    with indexing.bulk(fresh_index):  # as import_policies runs it
        with django_capture_on_commit_callbacks(execute=True):
            (record,) = run("notice.txt", SAMPLE_NOTICE.encode(), publish=publish)
    assert built == [(record.page_id, publish)]
    keys = {fields["doc_key"] for fields in fresh_index.store.searcher().all_stored_fields()}
    assert search.backend.document_key(PolicyPage, record.page_id) in keys
    articles = {
        search.backend.document_key(PolicyArticle, pk)
        for pk in PolicyArticle.objects.filter(page_id=record.page_id).values_list("pk", flat=True)
    }
    assert len(articles) == (6 if publish else 0)
    assert articles <= keys


def test_command_json_lines(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "notice.txt").write_bytes(SAMPLE_NOTICE.encode("gbk"))
    (tmp_path / "empty.md").write_bytes(b"")
    (tmp_path / "ignored.xlsx").write_bytes(b"x")
    out = io.StringIO()
    call_command("import_policies", str(tmp_path), "--json", "--publish", stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [row["status"] for row in rows] == ["error", "created"]
    keys = [
        "file",
        "status",
        "title",
        "doc_number",
        "issuer",
        "issued_on",
        "effective_on",
        "articles",
        "url",
        "error",
    ]
    assert all(list(row) == keys for row in rows)
    created = rows[1]
    assert created["doc_number"] == "元政办发〔2021〕7号"
    assert created["issued_on"] == "2021-03-08"
    assert created["effective_on"] == "2021-05-01"
    assert created["articles"] == 6
    assert created["url"].startswith("/library/")
    assert created["error"] is None
    assert rows[0]["error"] == "文件为空（0 字节），没有可导入的内容。"
    assert PolicyFile.objects.count() == 2


def _statutes(folder, count):
    folder.mkdir(exist_ok=True)
    for n in range(count):
        articles = "\n\n".join(
            f"第{numeral}条 第{n}号办法的第{k + 1}项规定，预算执行情况按月报告。"
            for k, numeral in enumerate("一二三")
        )
        (folder / f"办法{n}.md").write_text(f"# 县级预算管理办法第{n}号\n\n{articles}\n", "utf-8")


def test_progress_line_gives_count_rate_and_time_left():
    counts = {"created": 240, "skipped": 0, "duplicate": 8, "error": 2}
    line = progress_line(Work(250, 1000, 50.0), counts)
    assert line == (
        "进度 250/1000（25.0%）：导入 240，跳过 0，重复 8，失败 2；每秒 5.0 个，预计还需 2 分 30 秒"
    )


def test_a_resumed_runs_time_left_is_that_of_the_files_worked_on():
    """A resumed 10,000-file import skips the 4,000 files of the earlier run in seconds:
    the rate and the time left leave those out (at 800 files/s, 6,000 more would take
    under ten seconds; at the rate files are imported they take ten minutes)."""
    counts = {"created": 100, "skipped": 3900, "duplicate": 0, "error": 0}
    work = Work(4000, 10000, 40.0, skipped=3900, skip_seconds=30.0)
    assert work.rate() == 10.0 and work.seconds_left() == 600.0
    assert progress_line(work, counts) == (
        "进度 4000/10000（40.0%）：导入 100，跳过 3900，重复 0，失败 0；"
        "每秒 10.0 个（已导入而跳过的不计），预计还需 10 分 0 秒"
    )
    # nothing worked on yet: no estimate (the index writer is not told the end is near)
    only_skipped = Work(3900, 10000, 30.0, skipped=3900, skip_seconds=30.0)
    assert only_skipped.rate() is None and only_skipped.seconds_left() is None
    assert progress_line(only_skipped, {**counts, "created": 0}).endswith("预计剩余时间待估")


def _import_messages(folder, *options) -> str:
    """``import_policies FOLDER --publish OPTIONS``; what it wrote to stderr."""
    err = io.StringIO()
    call_command(
        "import_policies", str(folder), "--publish", *options, stdout=io.StringIO(), stderr=err
    )
    return err.getvalue()


def test_command_reports_progress_and_a_second_run_skips_what_is_imported(tmp_path):
    _statutes(tmp_path / "laws", 3)
    err = _import_messages(tmp_path / "laws", "--json", "--progress-seconds", "0")
    lines = [line for line in err.splitlines() if line.startswith("进度")]
    assert [line.split("（")[0] for line in lines] == ["进度 1/3", "进度 2/3"]
    assert "导入 1，跳过 0" in lines[0] and "导入 2，跳过 0" in lines[1]
    assert all("每秒" in line and "预计还需" in line for line in lines)
    assert "共 3 个文件：导入 3" in err

    # the run is resumed by running it again: what was imported is skipped, not doubled
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_policies",
        str(tmp_path / "laws"),
        "--publish",
        "--json",
        "--progress-seconds",
        "0",
        stdout=out,
        stderr=err,
    )
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [row["status"] for row in rows] == ["skipped"] * 3
    # no time left promised at the skipping speed
    lines = [line for line in err.getvalue().splitlines() if line.startswith("进度")]
    assert len(lines) == 2 and all(line.endswith("预计剩余时间待估") for line in lines)
    # each row links its own page (the sites' root paths are read once for the run)
    assert sorted(row["url"] for row in rows) == sorted(p.url for p in PolicyPage.objects.all())
    assert len({row["url"] for row in rows}) == 3
    assert PolicyPage.objects.count() == 3
    assert PolicyFile.objects.count() == 3


def test_a_file_a_killed_run_left_unfinished_is_finished_in_the_next_runs_batch(
    tmp_path, monkeypatch, fresh_index
):
    """The next run of the import finishes a file left by a run that was killed, before
    the rest and inside the run's index batch (as a commit of its own, its merge after a
    large import could hold the index for minutes); the file is then skipped as imported."""
    import socket
    import subprocess

    from django.utils import timezone

    from policies.management.commands import import_policies
    from search import indexing

    _statutes(tmp_path / "laws", 3)
    left = tmp_path / "laws" / "办法1.md"
    # received by an import that was killed before it processed the file
    record = ingest.receive(left.name, left.read_bytes(), publish=True, enqueue=False)
    dead = subprocess.Popen(["true"])
    dead.wait()
    PolicyFile.objects.filter(pk=record.pk).update(
        claimed_by=f"{dead.pid}@{socket.gethostname()}", claimed_at=timezone.now()
    )
    in_batch = []
    recover = import_policies.recover_unfinished

    def recorded(**kwargs):
        in_batch.append(indexing._active_bulk(fresh_index.store) is not None)
        return recover(**kwargs)

    monkeypatch.setattr(import_policies, "recover_unfinished", recorded)
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_policies", str(tmp_path / "laws"), "--publish", "--json", stdout=out, stderr=err
    )
    assert in_batch == [True]
    assert "已续做上次中断时未完成的 1 个文件。" in err.getvalue()
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    statuses = {row["file"].rsplit("/", 1)[-1]: row["status"] for row in rows}
    assert statuses == {"办法0.md": "created", "办法1.md": "skipped", "办法2.md": "created"}
    record.refresh_from_db()
    assert record.status == IngestStatus.CREATED and record.page.live
    assert PolicyPage.objects.count() == 3


def test_the_same_file_twice_in_one_run_is_skipped_the_second_time(tmp_path):
    """Files imported before the run are looked up once at its start; a file imported
    earlier in the same run (same name, same bytes, another folder) is skipped as well,
    and one with the same bytes under another name is a duplicate."""
    _statutes(tmp_path / "a", 2)
    _statutes(tmp_path / "b", 1)  # 办法0.md again, byte for byte
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "另一个名字.md").write_bytes((tmp_path / "a" / "办法1.md").read_bytes())
    out = io.StringIO()
    call_command(
        "import_policies",
        str(tmp_path / "a"),
        str(tmp_path / "b"),
        str(tmp_path / "c"),
        "--publish",
        "--json",
        stdout=out,
        stderr=io.StringIO(),
    )
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [row["status"] for row in rows] == ["created", "created", "skipped", "duplicate"]
    assert PolicyPage.objects.count() == 2


def test_an_import_that_leaves_many_index_segments_has_them_merged(
    site_tree,  # a transactional database: the import's own commits feed the bulk writer
    tmp_path,
    fresh_index,
    monkeypatch,
):
    """Every batch of an import is a segment of its own, and every search visits each of
    them: past indexing.COMPACT_SEGMENTS the import hands them to the worker to merge (in
    tests the task runs at once)."""
    from search import indexing

    monkeypatch.setattr(indexing, "COMPACT_SEGMENTS", 1)
    _statutes(tmp_path / "laws", 3)
    # a batch per statute: three segments (besides what the library page left)
    err = _import_messages(tmp_path / "laws", "--batch-seconds", "0", "--no-background-index")
    assert "检索索引的分段较多，已交给后台合并" in err
    index = fresh_index.store.index()
    assert len(index._segments()) == 1
    keys = {fields["doc_key"] for fields in fresh_index.store.searcher().all_stored_fields()}
    from search.backend import document_key

    pages = PolicyPage.objects.values_list("pk", flat=True)
    assert len(pages) == 3
    assert {document_key(PolicyPage, pk) for pk in pages} <= keys


def _published_the_wagtail_way(text: str) -> PolicyPage:
    """A page imported as a draft, then published by Wagtail's own revision.publish()."""
    (record,) = run("wagtail.txt", text.encode())
    page = PolicyPage.objects.get(pk=record.page_id)
    page.get_latest_revision().publish()
    return PolicyPage.objects.get(pk=page.pk)


def test_an_imported_page_is_published_as_wagtail_publishes_it():
    """An import publishes a new page without Wagtail's second full save
    (ingest.publish_new_page): the rows, log entries and signal must be the ones
    revision.publish() leaves."""
    from wagtail.models import Page, PageLogEntry
    from wagtail.signals import page_published

    announced = []

    def receiver(sender, instance, revision, **kwargs):
        if sender is PolicyPage:  # not the library's own page, made by the first import
            announced.append((sender, instance.pk, revision.pk, instance.live))

    page_published.connect(receiver)
    try:
        (record,) = run("notice.txt", SAMPLE_NOTICE.encode(), publish=True)
        ours = PolicyPage.objects.get(pk=record.page_id)
        theirs = _published_the_wagtail_way(SAMPLE_NOTICE.replace("〔2021〕7号", "〔2021〕8号"))
    finally:
        page_published.disconnect(receiver)
    assert announced == [
        (PolicyPage, ours.pk, ours.latest_revision_id, True),
        (PolicyPage, theirs.pk, theirs.latest_revision_id, True),
    ]
    differ = {"id", "page_ptr", "path", "url_path", "slug", "translation_key", "doc_number"}
    differ |= {"latest_revision", "live_revision", "first_published_at", "last_published_at"}
    differ |= {"latest_revision_created_at", "body_text", "summary"}
    names = [f.attname for f in PolicyPage._meta.concrete_fields if f.name not in differ]
    assert {n: getattr(ours, n) for n in names} == {n: getattr(theirs, n) for n in names}
    for page in (ours, theirs):
        assert page.live and not page.has_unpublished_changes and not page.expired
        assert page.live_revision_id == page.latest_revision_id
        assert page.revisions.count() == 1
        assert page.first_published_at == page.last_published_at
        assert page.last_published_at >= page.latest_revision_created_at
        revision = page.live_revision
        assert revision.approved_go_live_at is None
        assert revision.as_object().body_text == page.body_text
    assert ours.body_text.replace("8号", "7号") == theirs.body_text.replace("8号", "7号")

    def logged(page):
        entries = PageLogEntry.objects.filter(page=page).order_by("pk")
        return [(e.action, e.revision_id is not None, e.content_changed) for e in entries]

    assert logged(ours) == logged(theirs)
    assert [action for action, _, _ in logged(ours)] == [
        "wagtail.create",
        "wagtail.edit",
        "wagtail.publish",
    ]
    assert list(ours.articles.values_list("label", "text")) == [
        (label, text.replace("8号", "7号"))
        for label, text in theirs.articles.values_list("label", "text")
    ]
    # and the page goes on as any Wagtail page: edited, published, unpublished
    ours.title = "元江县预算绩效管理办法（修订）"
    ours.save_revision().publish()
    ours = PolicyPage.objects.get(pk=ours.pk)
    assert ours.title.endswith("（修订）") and ours.revisions.count() == 2
    assert Page.objects.get(pk=ours.pk).live_revision_id == ours.latest_revision_id
    ours.unpublish()
    assert not PolicyArticle.objects.filter(page=ours).exists()


def test_an_imported_page_takes_its_parents_locale_and_is_no_sites_root():
    """create_page sets what Wagtail would look up for a new page: the parent's locale
    (here not the default one), and that it is no site's root."""
    from wagtail.models import Locale

    from policies.services import ensure_index_page

    library = ensure_index_page()
    other = Locale.objects.create(language_code="en")
    type(library).objects.filter(pk=library.pk).update(locale=other)
    (record,) = run("notice.txt", SAMPLE_NOTICE.encode(), publish=True)
    page = PolicyPage.objects.get(pk=record.page_id)
    assert page.locale_id == other.pk != Locale.get_default().pk
    assert not page.is_site_root()
    assert page.articles.count() == page.article_count > 0


def test_an_uploader_who_may_not_publish_gets_a_draft_or_a_clear_refusal(make_user):
    """Publishing on import checks the uploader's publish permission, as Wagtail's publish
    does: refused, nothing is created and the record says why in Chinese."""
    from django.contrib.auth.models import Permission

    uploader = make_user(username="uploader-no-publish")
    app_label, codename = "cms.publish_material".split(".")
    uploader.user_permissions.add(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )
    (record,) = ingest.import_path_data(
        "notice.txt", SAMPLE_NOTICE.encode(), publish=True, user=uploader
    )
    assert record.status == IngestStatus.ERROR
    assert "没有在政策法规库发布文件的权限" in record.message
    assert record.page is None and not PolicyPage.objects.exists()
    with record.file.open("rb") as handle:
        assert handle.read() == SAMPLE_NOTICE.encode()
    # the same user imports it as a draft
    (draft,) = ingest.import_path_data("notice.txt", SAMPLE_NOTICE.encode(), user=uploader)
    assert draft.status == IngestStatus.CREATED and not draft.page.live
    # 工作人员 may publish in the library: the page is live, the publication theirs
    from wagtail.models import PageLogEntry

    from cms import roles

    staffer = make_user(roles.STAFF, username="staff-publisher")
    text = SAMPLE_NOTICE.replace("〔2021〕7号", "〔2021〕9号")
    (published,) = ingest.import_path_data("notice9.txt", text.encode(), publish=True, user=staffer)
    assert published.status == IngestStatus.CREATED and published.page.live
    entry = PageLogEntry.objects.get(page=published.page, action="wagtail.publish")
    assert entry.user == staffer


def test_an_import_tells_subscribers_of_its_pages_by_one_task_per_batch(
    tmp_path, make_user, monkeypatch, django_capture_on_commit_callbacks
):
    """The saved-search notices of an import's pages are sent by one task for up to 200
    pages (not one task per page): the subscriber is told of the new pages that match in
    one notice; a page published outside an import still has a task of its own."""
    from cms.notifications.models import Message
    from search.saved import services as saved
    from search.saved import tasks
    from search.saved.signals import announce_published_page, announcements_batched

    sent = []
    many = tasks.notify_matches_for_many.delay
    monkeypatch.setattr(
        tasks.notify_matches_for_many, "delay", lambda items: sent.append(items) or many(items)
    )
    single = []
    monkeypatch.setattr(tasks.notify_matches_for, "delay", lambda *item: single.append(item))
    staff = make_user("工作人员")
    saved.create_saved_search(staff, name="预算执行", query="预算执行", subscribed=True)
    _statutes(tmp_path / "laws", 3)
    # the test's transaction never commits: the files' commit callbacks run at the end of
    # the inner block, still inside the batch as they would be after each file's commit
    with announcements_batched(), django_capture_on_commit_callbacks(execute=True):
        call_command("import_policies", str(tmp_path / "laws"), "--publish", stdout=io.StringIO())
    assert len(sent) == 1 and not single  # the statutes and the library page it made
    pages = set(PolicyPage.objects.values_list("pk", flat=True))
    assert len(pages) == 3 and {pk for _app, _model, pk in sent[0]} >= pages
    messages = list(Message.objects.filter(recipient=staff))  # one notice for the three
    assert len(messages) == 1 and "3 条新结果" in messages[0].subject

    page = PolicyPage.objects.first()
    with announcements_batched(size=2), django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            announce_published_page(PolicyPage, page)
    assert [len(items) for items in sent[1:]] == [2, 2, 1]
    with django_capture_on_commit_callbacks(execute=True):
        announce_published_page(PolicyPage, page)
    assert single == [("policies", "policypage", page.pk)]

    def no_broker(items):
        raise OSError("broker down")

    # no broker: the batch's end does not fail (the half-hourly check tells them later)
    monkeypatch.setattr(tasks.notify_matches_for_many, "delay", no_broker)
    with announcements_batched(), django_capture_on_commit_callbacks(execute=True):
        announce_published_page(PolicyPage, page)
