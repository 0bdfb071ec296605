import json
import os
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from policies.extraction import SUPPORTED_EXTENSIONS, extension_of, max_upload_bytes
from policies.ingest import Report, _error, import_path_data, new_batch

IMPORTABLE = SUPPORTED_EXTENSIONS | {"zip"}


class Command(BaseCommand):
    help = "导入政策法规文件（PDF / DOCX / TXT / Markdown / ZIP，文件或文件夹）。"

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument(
            "--publish", action="store_true", help="导入后直接发布（默认存为草稿待审核）"
        )
        parser.add_argument("--json", action="store_true", help="每个文件输出一行 JSON")

    def handle(self, *paths, **options):
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
        counts = {"created": 0, "duplicate": 0, "error": 0}
        started = time.monotonic()
        for path in files:
            for report in self.import_one(path, options["publish"], batch):
                data = report.as_dict()
                counts[data["status"]] += 1
                if options["json"]:
                    self.stdout.write(json.dumps(data, ensure_ascii=False))
                else:
                    line = f"[{data['status']}] {data['file']}  {data['title'] or ''}"
                    if data["error"]:
                        line += f"  —— {data['error']}"
                    self.stdout.write(line)
        elapsed = time.monotonic() - started
        summary = (
            f"共 {len(files)} 个文件：导入 {counts['created']}，重复 {counts['duplicate']}，"
            f"失败 {counts['error']}；用时 {elapsed:.1f} 秒。"
        )
        # the summary goes to stderr with --json so stdout stays one object per line
        (sys.stderr if options["json"] else self.stdout).write(summary + "\n")

    def import_one(self, path, publish, batch):
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
                return [Report(record, path)]
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as error:
            record = _error(os.path.basename(path), f"无法读取文件：{error.strerror}", batch=batch)
            return [Report(record, path)]
        records = import_path_data(path, data, publish=publish, batch=batch)
        if len(records) == 1 and extension_of(path) != "zip":
            return [Report(records[0], path)]
        return [Report(record, f"{path}!{record.original_name}") for record in records]
