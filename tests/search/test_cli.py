"""python manage.py search QUERY [--limit N] [--json] [--file F] [--user U]."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cms.usage.models import UsageAction, UsageRecord
from tests.search.test_page import add_page, refresh, searchable_types  # noqa: F401
from tests.search.testapp.models import Document, Note


@pytest.fixture
def material(searchable_types):  # noqa: F811
    Document.objects.create(
        title="预算 执行 报告", body="本年 全县 预算 执行 平稳。", issuer="县财政局", year=2024
    )
    Document.objects.create(title="预算 审计 内部 报告", body="审计 发现。", restricted=True)
    Document.objects.create(title="预算 未发布", published=False)
    Note.objects.create(title="调研 笔记", content="关于 预算 & 决算 的 <调研>。")
    add_page("预算 公开 栏目")
    refresh()


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("search", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_json_shape(material, admin_user_role):
    out, _ = run("预算", "--json")
    [payload] = json_lines(out)
    assert list(payload) == ["query", "total", "documents", "results"]
    assert payload["query"] == "预算" and payload["total"] == 4
    assert payload["documents"] == 4  # nothing here is part of another item
    for result in payload["results"]:
        assert list(result) == [
            "title", "url", "type", "score", "highlight", "matched", "articles", "more_articles"
        ]  # fmt: skip
        assert result["matched"] and result["articles"] == [] and result["more_articles"] == 0
        assert isinstance(result["score"], float) and 0 < result["score"] <= 1
        assert "【预算】" in result["highlight"]
    by_title = {r["title"]: r for r in payload["results"]}
    assert by_title["预算 执行 报告"]["type"] == "测试文件"
    assert by_title["预算 执行 报告"]["highlight"] == "本年 全县 【预算】 执行 平稳。"
    # HTML escaping of the highlighter is undone for plain text
    assert by_title["调研 笔记"]["highlight"] == "关于 【预算】 & 决算 的 <调研>。"
    assert by_title["预算 公开 栏目"]["type"] == "网页"
    assert by_title["预算 公开 栏目"]["url"].startswith("/")
    assert "预算 未发布" not in by_title


def test_default_view_is_the_administrators(material, db):
    # no administrator account exists: the stand-in still sees restricted material
    [payload] = json_lines(run("审计", "--json")[0])
    assert [r["title"] for r in payload["results"]] == ["预算 审计 内部 报告"]


def test_user_option_applies_that_users_permissions(material, deputy_user):
    [payload] = json_lines(run("审计", "--json", "--user", deputy_user.username)[0])
    assert payload == {"query": "审计", "total": 0, "documents": 0, "results": []}
    record = UsageRecord.objects.filter(action=UsageAction.SEARCH).latest("pk")
    assert record.user == deputy_user and record.detail == "审计"


def test_limit_keeps_total(material, admin_user_role):
    [payload] = json_lines(run("预算", "--json", "--limit", "2")[0])
    assert payload["total"] == 4 and len(payload["results"]) == 2
    with pytest.raises(CommandError, match="正整数"):
        run("预算", "--limit", "0")


def test_file_runs_one_query_per_line(material, admin_user_role, tmp_path):
    queries = tmp_path / "queries.txt"
    queries.write_text("预算\n\n调研 | 审计\n火星\n", encoding="utf-8")
    out, _ = run("--file", str(queries), "--json")
    payloads = json_lines(out)
    assert [(p["query"], p["total"]) for p in payloads] == [
        ("预算", 4),
        ("调研 | 审计", 2),
        ("火星", 0),
    ]
    assert UsageRecord.objects.filter(action=UsageAction.SEARCH).count() == 3


def test_bad_query_in_a_file_reports_and_fails_after_the_rest(material, admin_user_role, tmp_path):
    queries = tmp_path / "queries.txt"
    queries.write_text("-预算\n调研\n", encoding="utf-8")
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 个检索式无法执行"):
        call_command("search", "--file", str(queries), "--json", stdout=out, stderr=err)
    assert [(p["query"], p["total"]) for p in json_lines(out.getvalue())] == [
        ("-预算", 0),
        ("调研", 1),
    ]
    assert "不能只包含排除词" in err.getvalue()


def test_text_output(material, admin_user_role):
    out, _ = run("执行")
    assert out.splitlines()[0] == "检索：执行　共 1 条，显示 1 条"
    assert "[测试文件] 预算 执行 报告" in out
    assert "【执行】" in out


def test_refusals(db):
    with pytest.raises(CommandError, match="请给出检索式"):
        run()
    with pytest.raises(CommandError, match="没有用户名为“nobody”的账户"):
        run("预算", "--user", "nobody")
    with pytest.raises(CommandError, match="无法读取文件"):
        run("--file", "/nonexistent/queries.txt")
