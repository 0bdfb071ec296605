import contextlib
import dataclasses
import hashlib
import json
import os
import time

from django.core.management.base import BaseCommand, CommandError
from wagtail.models import Site

from cms.dbstats import refresh_statistics
from policies.choices import IngestStatus
from policies.extraction import SUPPORTED_EXTENSIONS, extension_of, max_upload_bytes
from policies.ingest import Report, _error, import_path_data, new_batch, recover_unfinished
from policies.models import PolicyFile
from search import indexing
from search.saved.signals import announcements_batched

IMPORTABLE = SUPPORTED_EXTENSIONS | {"zip"}


class Command(BaseCommand):
    help = "导入政策法规文件（PDF / DOCX / TXT / Markdown / ZIP，文件或文件夹）。"
    # Django's system checks (0.4 s of a ~1.7 s start) are the site's and its deployment's
    # to run (`manage.py check`, `make test`, every web start); an import repeats nothing
    # it needs. (`--skip-checks` is the same for one run.)
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument(
            "--publish", action="store_true", help="导入后直接发布（默认存为草稿待审核）"
        )
        parser.add_argument("--json", action="store_true", help="每个文件输出一行 JSON")
        parser.add_argument(
            "--batch-docs",
            type=int,
            default=10000,
            help="搜索索引每积累多少条记录提交一次（默认 10000；0 表示每次保存各提交）",
        )
        parser.add_argument(
            "--batch-seconds",
            type=float,
            default=5.0,
            help="搜索索引最迟每隔多少秒提交一次（默认 5 秒）",
        )
        parser.add_argument(
            "--background-index",
            dest="index_in_background",
            action="store_true",
            default=None,
            help="搜索索引的每批提交由子进程并行写入（有两个以上处理器核心时默认如此）",
        )
        parser.add_argument(
            "--no-background-index",
            dest="index_in_background",
            action="store_false",
            help="搜索索引的每批提交都在本进程内写入",
        )
        parser.add_argument(
            "--progress-seconds", type=float, default=5.0, help="每隔多少秒显示一次进度"
        )

    def handle(self, *paths, **options):
        self.json_output = options["json"]
        files = []
        for path in options["paths"]:
            if os.path.isdir(path):
                for root, dirs, names in os.walk(path):
                    dirs.sort()
                    for name in sorted(names):
                        if name.startswith(".") or name.startswith("_"):
                            continue
                        if extension_of(name) in IMPORTABLE:
                            files.append(os.path.join(root, name))
            elif os.path.isfile(path):
                files.append(path)
            else:
                raise CommandError(f"找不到文件或文件夹：{path}")
        batch = new_batch()
        counts = {"created": 0, "skipped": 0, "duplicate": 0, "error": 0}
        started = last_report = time.monotonic()
        # files skipped as imported before cost next to nothing: the rate and the time left
        # are those of the files worked on (a resumed run would otherwise promise the rest
        # at the skipping speed)
        skipped_files, skip_seconds = 0, 0.0
        batching = (
            indexing.bulk(
                max_docs=options["batch_docs"],
                max_seconds=options["batch_seconds"],
                background=indexing.background_by_default()
                if options["index_in_background"] is None
                else options["index_in_background"],
            )
            if options["batch_docs"] > 0
            else contextlib.nullcontext()
        )
        # the saved-search notices of the new pages: one task per 200 pages, not per page
        with batching as bulk_writer, announcements_batched():
            # files a killed earlier run left half-done are finished first (their index
            # writes are the batch's, as the run's own are)
            recovered = recover_unfinished(enqueue=False)
            if recovered["processed"]:
                self.stderr.write(f"已续做上次中断时未完成的 {recovered['processed']} 个文件。")
            # (content digest, file name) of the files imported before: most files of a
            # large import are new, and one query here saves one a file (already_imported)
            self.imported = set(
                PolicyFile.objects.filter(
                    status=IngestStatus.CREATED, page__isnull=False
                ).values_list("sha256", "original_name")
            )
            for done, path in enumerate(files, 1):
                file_started = time.monotonic()
                rows = self.import_one(path, options["publish"], batch)
                if rows and all(data["status"] == "skipped" for data in rows):
                    skipped_files += 1
                    skip_seconds += time.monotonic() - file_started
                for data in rows:
                    counts[data["status"]] += 1
                    if options["json"]:
                        self.stdout.write(json.dumps(data, ensure_ascii=False))
                    else:
                        line = f"[{data['status']}] {data['file']}  {data['title'] or ''}"
                        if data["error"]:
                            line += f"  —— {data['error']}"
                        self.stdout.write(line)
                now = time.monotonic()
                work = Work(done, len(files), now - started, skipped_files, skip_seconds)
                if bulk_writer is not None:  # each document searchable within seconds
                    bulk_writer.tick(time_left=work.seconds_left())
                if now - last_report >= options["progress_seconds"] and done < len(files):
                    last_report = now
                    self.stderr.write(progress_line(work, counts))
        if counts["created"]:
            refresh_statistics()  # the next queries plan on the new table sizes
            self.queue_compaction()
        elapsed = time.monotonic() - started
        summary = (
            f"共 {len(files)} 个文件：导入 {counts['created']}，已导入过而跳过 {counts['skipped']}，"
            f"重复 {counts['duplicate']}，失败 {counts['error']}；用时 {elapsed:.1f} 秒"
            f"（每秒 {len(files) / elapsed if elapsed else 0:.1f} 个）。"
        )
        # the summary goes to stderr with --json so stdout stays one object per line
        (self.stderr if options["json"] else self.stdout).write(summary)

    def queue_compaction(self):
        """A large import leaves one index segment per batch, and every search visits each
        of them: the worker merges them (search.indexing.compact)."""
        from modelsearch.backends import get_search_backend

        from search.tasks import compact_index

        store = getattr(get_search_backend(), "store", None)
        if store is None or not indexing.needs_compaction(store):
            return
        self.stderr.write("检索索引的分段较多，已交给后台合并（合并期间检索照常可用）。")
        try:
            compact_index.delay()
        except Exception:  # no broker: the nightly run merges them
            self.stderr.write("后台任务队列不可用，索引分段将在夜间合并。")

    def report(self, record, path) -> dict:
        """A file's report row; its page's address only where it is shown (--json), the
        sites' root paths read once for the run."""
        with_url = getattr(self, "json_output", True)
        if with_url and getattr(self, "site_root_paths", None) is None:
            self.site_root_paths = Site.get_site_root_paths()
        return Report(
            record, path, with_url=with_url, site_root_paths=getattr(self, "site_root_paths", None)
        ).as_dict()

    def already_imported(self, path, data):
        """The same file (same name, same bytes) imported by an earlier run: a resumed
        import skips it without a new record."""
        digest = hashlib.sha256(data).hexdigest()
        known = getattr(self, "imported", None)
        if known is not None and (digest, os.path.basename(path)) not in known:
            return None
        return (
            PolicyFile.objects.filter(
                sha256=digest,
                status=IngestStatus.CREATED,
                original_name=os.path.basename(path),
                page__isnull=False,
            )
            .select_related("page")
            .first()
        )

    def import_one(self, path, publish, batch):
        """The report rows (dicts) of one file from disk."""
        try:
            size = os.path.getsize(path)
            if size > max_upload_bytes():
                record = _error(
                    os.path.basename(path),
                    f"文件过大（{size / 1048576:.1f} MB），超过上限 {max_upload_bytes() / 1048576:.0f} MB。",
                    batch=batch,
                    size=size,
                    publish=publish,
                )
                return [self.report(record, path)]
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as error:
            record = _error(os.path.basename(path), f"无法读取文件：{error.strerror}", batch=batch)
            return [self.report(record, path)]
        if extension_of(path) != "zip":
            earlier = self.already_imported(path, data)
            if earlier is not None:
                row = self.report(earlier, path)
                row["status"] = "skipped"
                row["error"] = "此前已导入（同名同内容），跳过。"
                return [row]
        records = import_path_data(path, data, publish=publish, batch=batch)
        known = getattr(self, "imported", None)
        if known is not None:  # the same file again later in this run is skipped too
            known.update(
                (record.sha256, record.original_name)
                for record in records
                if record.status == IngestStatus.CREATED and record.page_id
            )
        if len(records) == 1 and extension_of(path) != "zip":
            return [self.report(records[0], path)]
        return [self.report(record, f"{path}!{record.original_name}") for record in records]


@dataclasses.dataclass(frozen=True)
class Work:
    """How far an import is: ``done`` of ``total`` files after ``elapsed`` seconds, of which
    ``skipped`` files (imported by an earlier run) took ``skip_seconds``."""

    done: int
    total: int
    elapsed: float
    skipped: int = 0
    skip_seconds: float = 0.0

    def rate(self) -> float | None:
        """Files worked on (not skipped) a second; None before the first."""
        worked, seconds = self.done - self.skipped, self.elapsed - self.skip_seconds
        if worked <= 0 or seconds <= 0:
            return None
        return worked / seconds

    def seconds_left(self) -> float | None:
        """The time the files not yet reached need at that rate (None before it is known)."""
        rate = self.rate()
        return None if rate is None else (self.total - self.done) / rate


def progress_line(work: Work, counts: dict) -> str:
    rate, left = work.rate(), work.seconds_left()
    if rate is None:
        pace = "预计剩余时间待估"
    else:
        minutes, seconds = divmod(int(left + 0.5), 60)
        note = "（已导入而跳过的不计）" if work.skipped else ""
        pace = f"每秒 {rate:.1f} 个{note}，预计还需 {minutes} 分 {seconds} 秒"
    return (
        f"进度 {work.done}/{work.total}（{work.done * 100 / work.total:.1f}%）："
        f"导入 {counts['created']}，跳过 {counts['skipped']}，重复 {counts['duplicate']}，"
        f"失败 {counts['error']}；{pace}"
    )
