"""Imports that survive races and crashes, tried with real processes.

Two ``import_policies`` runs over the same files at once, and a run killed with SIGKILL in
the middle: afterwards there is one document per content, no file stuck in processing,
and the search index holds every live document — repaired by the next start (the import
command) or by the beat tasks, without anyone running a repair command.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from modelsearch.backends import get_search_backend

from policies.choices import IngestStatus
from policies.ingest import recover_unfinished
from policies.models import PolicyFile, PolicyPage
from policies.services import ensure_index_page
from search import integrity, tasks
from search.indexing import pending_files

# processes racing, seconds each: left to make test, not the edit loop (make test-fast)
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
NUMERALS = "一二三四五六七八九十"


def write_statutes(folder: Path, count: int) -> list[Path]:
    folder.mkdir()
    paths = []
    for n in range(count):
        articles = "\n\n".join(
            f"第{NUMERALS[k]}条 第{n}号测试办法的第{k + 1}项规定，预算执行情况按月报告。"
            for k in range(6)
        )
        path = folder / f"办法{n:02d}.md"
        path.write_text(f"# 元江县测试管理办法第{n}号\n\n{articles}\n", "utf-8")
        paths.append(path)
    return paths


def database_url() -> str:
    """The test database (SQLite or PostgreSQL) for a subprocess to use."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{db.get('USER') or ''}@{host}:{port}/{db['NAME']}"


def import_process(folder: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        DATA_DIR=str(settings.DATA_DIR),
        DATABASE_URL=database_url(),
        DJANGO_SETTINGS_MODULE="cms.settings.test",
        CELERY_TASK_ALWAYS_EAGER="1",
    )
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "import_policies",
            str(folder),
            "--publish",
            "--json",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def statuses(stdout: str) -> list[str]:
    return [json.loads(line)["status"] for line in stdout.splitlines() if line.startswith("{")]


def assert_one_live_document_per_file(count: int):
    assert PolicyPage.objects.live().count() == count
    created = PolicyFile.objects.filter(status=IngestStatus.CREATED)
    assert created.count() == count
    assert len(set(created.values_list("sha256", flat=True))) == count
    assert all(f.page_id and f.file for f in created)  # every page has its original
    assert not PolicyFile.objects.filter(
        status__in=[IngestStatus.PENDING, IngestStatus.PROCESSING]
    ).exists()


def assert_index_complete():
    backend = get_search_backend()
    report = integrity.check(backend)
    for model_report in report.models:
        if model_report.label.startswith("policies."):
            assert not model_report.missing, model_report
            assert not model_report.stale, model_report
            assert not model_report.orphaned, model_report
    assert pending_files(backend.store) == []


@pytest.fixture
def empty_index():
    """The index of the test's DATA_DIR, emptied (a flushed database leaves it behind)."""
    get_search_backend().store.reset()


def test_two_imports_of_the_same_files_at_once_make_one_document_each(
    site_tree, empty_index, tmp_path
):
    ensure_index_page()
    write_statutes(tmp_path / "files", 20)
    first = import_process(tmp_path / "files")
    second = import_process(tmp_path / "files")
    out1, err1 = first.communicate(timeout=600)
    out2, err2 = second.communicate(timeout=600)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    seen = statuses(out1) + statuses(out2)
    assert len(seen) == 40
    assert "error" not in seen, out1 + out2
    assert seen.count("created") == 20
    assert_one_live_document_per_file(20)
    assert_index_complete()


def test_two_files_with_the_same_doc_number_imported_at_once_make_one_document(
    site_tree, empty_index, tmp_path
):
    """Different files (a scan and a retyped copy, say) that carry the same 文号, imported by
    two runs at once: one document per 文号, the other file reported as its duplicate."""
    ensure_index_page()
    folders = []
    for copy in ("甲", "乙"):
        folder = tmp_path / copy
        folder.mkdir()
        for n in range(10):
            (folder / f"通知{n:02d}.md").write_text(
                f"# 元江县财政局关于做好第{n}批预算资金管理工作的通知\n\n"
                f"元财预〔2026〕{n + 1}号\n\n"
                f"第一条 本批资金按月报告执行情况。\n\n（{copy}稿）\n",
                "utf-8",
            )
        folders.append(folder)
    runs = [import_process(folder) for folder in folders]
    outputs = [run.communicate(timeout=600) for run in runs]
    for run, (_out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err
    seen = statuses(outputs[0][0]) + statuses(outputs[1][0])
    assert sorted(set(seen)) == ["created", "duplicate"], seen
    assert seen.count("created") == 10
    numbers = list(PolicyPage.objects.values_list("doc_number", flat=True))
    assert len(numbers) == len(set(numbers)) == 10
    duplicates = PolicyFile.objects.filter(status=IngestStatus.DUPLICATE)
    assert duplicates.count() == 10
    assert all("已存在于" in f.message for f in duplicates)
    assert_index_complete()


def test_an_import_killed_mid_way_is_finished_by_the_next_start(site_tree, empty_index, tmp_path):
    ensure_index_page()
    write_statutes(tmp_path / "files", 20)
    # small index batches, so the kill lands between database and index commits
    victim = import_process(tmp_path / "files", "--batch-seconds", "30", "--batch-docs", "5000")
    deadline = time.monotonic() + 300
    while PolicyFile.objects.filter(status=IngestStatus.CREATED).count() < 4:
        assert victim.poll() is None, victim.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    created = PolicyFile.objects.filter(status=IngestStatus.CREATED).count()
    assert 4 <= created < 20
    # the killed run's documents are in the database but not yet in the index
    backend = get_search_backend()
    assert pending_files(backend.store), "the write-ahead files of the killed run remain"

    # the beat tasks alone mend it: the index catches up, unfinished files are redone
    tasks.recover_index_writes()
    recover_unfinished(enqueue=False)
    assert_index_complete()

    # the next start of the import finishes the folder without a duplicate
    again = import_process(tmp_path / "files")
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    seen = statuses(out)
    assert "error" not in seen and "duplicate" not in seen, out
    assert seen.count("skipped") >= created
    assert_one_live_document_per_file(20)
    assert_index_complete()
