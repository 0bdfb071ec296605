"""python manage.py search QUERY [--limit N] [--json] [--file F] [--user USERNAME]

The site's search from the command line, through the same registry, permissions and
query syntax as /search/. Without --user it shows what a 系统管理员 sees.

With --json every query prints one JSON object on its own line:
{"query", "total", "documents", "results": [{"title", "url", "type", "score", "highlight",
"matched", "articles": [{"title", "url", "type", "score", "highlight"}], "more_articles"}]}.
"total" counts every hit; "results" lists a document once, with its best-matching articles
(条文) beneath it and the number of its other matching articles (like the search page), so
"documents" is the number of distinct entries. "matched" is false when a document is
listed only because some of its articles matched. When nothing matches the whole query,
"relaxed" gives the words dropped to find the closest results listed (“部分匹配”).
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
from search.registry import administrator_view_user, relaxed_search, run_search

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
                self._json({"query": query, "total": 0, "documents": 0, "results": []})
            return False
        relaxed = relaxed_search(user, outcome) if outcome.total == 0 else None
        shown = relaxed or outcome
        results = shown.results[:limit]
        if as_json:
            payload = {
                "query": query,
                "total": outcome.total,
                "documents": outcome.result_count,
                "results": [
                    {
                        **self._hit_json(hit),
                        "matched": hit.matched,
                        "articles": [self._hit_json(part) for part in hit.shown_children],
                        "more_articles": hit.more_children,
                    }
                    for hit in results
                ],
            }
            if relaxed is not None:
                payload["relaxed"] = {"dropped": relaxed.dropped_terms, "total": relaxed.total}
            self._json(payload)
            return True
        grouped = (
            f"归并为 {outcome.result_count} 项，" if outcome.result_count != outcome.total else ""
        )
        self.stdout.write(f"检索：{query}　共 {outcome.total} 条，{grouped}显示 {len(results)} 条")
        for notice in outcome.parsed.notices:
            self.stdout.write(f"提示：{notice}")
        if relaxed is not None:
            dropped = "、".join(f"“{w}”" for w in relaxed.dropped_terms)
            self.stdout.write(f"部分匹配：去掉{dropped}后共 {relaxed.total} 条")
        for number, hit in enumerate(results, start=1):
            self.stdout.write(f"{number:>3}. [{hit.type_label}] {hit.title}  ({hit.score})")
            self.stdout.write(f"     {hit.url}")
            if hit.matched:
                self.stdout.write(f"     {hit_highlight(hit)}")
            for part in hit.shown_children:
                self.stdout.write(f"     · {part.title}  ({part.score})")
                self.stdout.write(f"       {hit_highlight(part)}")
            if hit.more_children:
                self.stdout.write(f"     另有 {hit.more_children} 条命中")
        return True

    @staticmethod
    def _hit_json(hit) -> dict:
        return {
            "title": hit.title,
            "url": hit.url,
            "type": hit.type_label,
            "score": hit.score,
            "highlight": hit_highlight(hit),
        }

    def _json(self, payload):
        self.stdout.write(json.dumps(payload, ensure_ascii=False))
