"""python manage.py search QUERY [--limit N] [--json] [--file F] [--user USERNAME]

The site's search from the command line, through the same registry, permissions and
query syntax as /search/. Without --user it shows what a 系统管理员 sees.

With --json every query prints one JSON object on its own line:
{"query", "total", "results": [{"title", "url", "type", "score", "highlight"}]}.
"highlight" is plain text: the best passage of the item's text (its title when the text
is empty or does not contain a match) with every matched word wrapped in 【 】.
"score" is the relevance from 0 to 1 (1 = the best hit of its type, see search.registry).
"""

import html
import json
import re
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cms.usage.services import UsageAction, record_usage
from search.query_syntax import QuerySyntaxError
from search.registry import administrator_view_user, run_search

_MARK_RE = re.compile(r"<mark>(.*?)</mark>", re.S)
SNIPPET_CHARS = 160


def marked_text(fragment) -> str:
    """The highlighter's HTML as plain text with 【】 around the matches."""
    text = html.unescape(_MARK_RE.sub(r"【\1】", str(fragment)))
    return " ".join(text.split())


def hit_highlight(hit) -> str:
    snippet = marked_text(hit.snippet_html(SNIPPET_CHARS))
    if "【" in snippet:
        return snippet
    title = marked_text(hit.title_html())
    return title if "【" in title or not snippet else snippet


class Command(BaseCommand):
    help = "全站检索（与 /search/ 相同的检索式、权限和排序）。"

    def add_arguments(self, parser):
        parser.add_argument("query", nargs="*", help="检索式；多个参数以空格连接（空格 = 并且）")
        parser.add_argument(
            "--limit", type=int, default=10, help="每个检索式最多输出几条（默认 10）"
        )
        parser.add_argument("--json", action="store_true", help="每个检索式输出一行 JSON")
        parser.add_argument("--file", help="从文件读取检索式，每行一个（- 表示标准输入）")
        parser.add_argument("--user", help="以该用户的权限检索（默认：系统管理员可见的范围）")
        parser.add_argument("--sort", choices=["relevance", "date"], default="relevance")

    def handle(self, *args, **options):
        limit = options["limit"]
        if limit < 1:
            raise CommandError("--limit 必须是正整数。")
        queries = []
        if options["query"]:
            queries.append(" ".join(options["query"]))
        if options["file"]:
            queries.extend(self._read_file(options["file"]))
        if not queries:
            raise CommandError("请给出检索式，或用 --file 指定每行一个检索式的文件。")

        user, actor = self._user(options["user"])
        failed = 0
        for query in queries:
            ok = self._run_one(query, user, actor, limit, options["json"], options["sort"])
            failed += 0 if ok else 1
        if failed:
            raise CommandError(f"{failed} 个检索式无法执行（原因见上）。")

    def _read_file(self, path):
        try:
            if path == "-":
                lines = sys.stdin.read().splitlines()
            else:
                with open(path, encoding="utf-8-sig") as handle:
                    lines = handle.read().splitlines()
        except OSError as exc:
            raise CommandError(f"无法读取文件 {path}：{exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"文件 {path} 不是 UTF-8 编码的文本。") from exc
        return [line.strip() for line in lines if line.strip()]

    def _user(self, username):
        if not username:
            return administrator_view_user(), None
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist as exc:
            raise CommandError(f"没有用户名为“{username}”的账户。") from exc
        if not user.is_active:
            raise CommandError(f"账户“{username}”已停用。")
        return user, user

    def _run_one(self, query, user, actor, limit, as_json, sort) -> bool:
        record_usage(
            None,
            UsageAction.SEARCH,
            detail=query,
            user=actor,
            username="" if actor else "manage.py search",
        )
        try:
            outcome = run_search(user, query, sort=sort)
        except QuerySyntaxError as exc:
            self.stderr.write(f"“{query}”：{exc}")
            if as_json:
                self._json({"query": query, "total": 0, "results": []})
            return False
        hits = outcome.hits[:limit]
        if as_json:
            self._json(
                {
                    "query": query,
                    "total": outcome.total,
                    "results": [
                        {
                            "title": hit.title,
                            "url": hit.url,
                            "type": hit.type_label,
                            "score": hit.score,
                            "highlight": hit_highlight(hit),
                        }
                        for hit in hits
                    ],
                }
            )
            return True
        self.stdout.write(f"检索：{query}　共 {outcome.total} 条，显示 {len(hits)} 条")
        for number, hit in enumerate(hits, start=1):
            self.stdout.write(f"{number:>3}. [{hit.type_label}] {hit.title}  ({hit.score})")
            self.stdout.write(f"     {hit.url}")
            self.stdout.write(f"     {hit_highlight(hit)}")
        return True

    def _json(self, payload):
        self.stdout.write(json.dumps(payload, ensure_ascii=False))
