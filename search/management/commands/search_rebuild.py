"""manage.py search_rebuild [--workers N] [--chunk N]: rebuild the PostgreSQL search index
in parallel (search.pg_rebuild). For the Whoosh index, ``update_index`` rebuilds it."""

from django.core.management.base import BaseCommand
from modelsearch.backends import get_search_backend

from search import pg_rebuild
from search.pg_backend import SegmentedPostgresSearchBackend


class Command(BaseCommand):
    help = (
        "并行重建 PostgreSQL 全文检索索引：清空索引表，多个进程写入，最后重建 GIN 索引。"
        "重建期间检索只能查到已写入的部分，请在空闲时段运行。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=2, help="写入进程数（默认 2）")
        parser.add_argument("--chunk", type=int, default=2000, help="每批对象数（默认 2000）")

    def handle(self, *args, **options):
        backend = get_search_backend()
        if not isinstance(backend, SegmentedPostgresSearchBackend):
            self.stderr.write(
                "当前检索后端不是 PostgreSQL（SEARCH_BACKEND=postgres）；"
                "Whoosh 索引请用 manage.py update_index 重建。"
            )
            raise SystemExit(2)
        if options["workers"] < 1 or options["chunk"] < 1:
            self.stderr.write("--workers 和 --chunk 必须是正整数。")
            raise SystemExit(2)
        last = [0]

        def progress(done):
            if done - last[0] >= 50_000:
                last[0] = done
                self.stdout.write(f"已写入 {done} 个对象…")

        report = pg_rebuild.rebuild(
            backend, workers=options["workers"], chunk=options["chunk"], progress=progress
        )
        phases = "，".join(f"{k} {v:.1f} 秒" for k, v in report.seconds.items())
        self.stdout.write(f"重建完成：{report.objects} 个对象；{phases}。")
