"""Searching from many threads and several processes while another thread commits.

Issue 15: under gunicorn's threads one searcher (and so one open postings file) was
shared by every thread of a process; two threads seeking and reading the same file gave
``CorruptIndexError: Bad postings block tag`` or wrong hits. Every thread must search with
its own searcher, and a process must never use a searcher its parent opened before fork.

The index is written straight through the store (no database is touched by the threads
and processes), and the writer only adds documents the queries cannot match or rewrites
existing ones unchanged, so every search must give exactly the serial run's hits.
"""

import multiprocessing
import random
import threading
import traceback

import pytest
from whoosh import query as wq

from search.backend import CharQuery, IndexStore, _top_docs

WORDS = ["预算", "执行", "人民政府", "应当", "规定", "监督", "审查", "转移支付", "三公经费",
         "决算", "报告", "人大", "常务委员会", "专项债券", "税收", "国有资产", "绩效"]  # fmt: skip
FILLER = ["天气", "晴朗", "山川", "河流", "树木"]  # never searched for


def _doc(pk: int, body: str) -> dict:
    return {
        "doc_key": f"t.doc:{pk}",
        "doc_ct": "t.doc",
        "doc_pk": str(pk),
        "doc_hash": str(pk),
        "doc_text": body,
        "w__body": body,
        "b__body": body,
    }


def _bodies(count: int) -> dict[int, str]:
    rng = random.Random(15)
    return {
        pk: "，".join(rng.choice(WORDS) for _ in range(rng.randint(20, 200)))
        for pk in range(1, count + 1)
    }


def _queries():
    return [
        wq.Term("w__body", "预算"),
        wq.And([wq.Term("w__body", "应当"), wq.Term("w__body", "规定")]),
        wq.Or([wq.Term("w__body", "绩效"), wq.Term("w__body", "决算")]),
        CharQuery("b__body", "税"),
        wq.Phrase("b__body", ["转移", "移支", "支付"]),
        wq.And([wq.Term("w__body", "人大"), wq.Not(wq.Term("w__body", "税收"))]),  # in Whoosh
        wq.Prefix("w__body", "国有"),  # in Whoosh
    ]


def _answers(store: IndexStore) -> list[list[str]]:
    """Every query's hits as their stored primary keys (sorted: the writer's new documents
    change the collection statistics, so scores and the order of near ties may move)."""
    searcher = store.searcher()
    pks = searcher.reader().column_reader("doc_pk")
    out = []
    for query in _queries():
        top = _top_docs(searcher, query, None)
        out.append(sorted(pks[docnum] for docnum, _score in top))
    return out


def _search_loop(store, expected, rounds, errors, label):
    try:
        for _ in range(rounds):
            got = _answers(store)
            if got != expected:
                errors.append(f"{label}: different hits")
    except Exception:  # every failure is reported, not only the first
        errors.append(f"{label}: {traceback.format_exc(limit=3)}")


def _process_main(path, expected, rounds, threads, results):
    """A child process: a few threads of its own, on the store the parent left behind."""
    from search.backend import get_store

    store = get_store(path)
    errors: list[str] = []
    workers = [
        threading.Thread(target=_search_loop, args=(store, expected, rounds, errors, f"p{i}"))
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put(errors)


@pytest.mark.slow  # processes racing: left to make test, not the edit loop
def test_threads_and_processes_search_while_a_writer_commits(tmp_path):
    from search.backend import get_store

    store = get_store(tmp_path / "index")
    bodies = _bodies(400)
    store.write(documents=[_doc(pk, body) for pk, body in bodies.items()])
    # a second segment, with deletions in the first
    store.write(documents=[_doc(pk, bodies[pk]) for pk in range(1, 400, 7)])
    expected = _answers(store)  # the serial run; the parent's searcher is open across fork
    assert all(expected), "every query finds something"

    stop = threading.Event()
    commits = []
    write_errors: list[str] = []

    def writer():
        rng = random.Random(3)
        pk = 10_000
        try:
            while not stop.is_set():
                pk += 1
                filler = "，".join(rng.choice(FILLER) for _ in range(50))
                same = rng.randint(1, 400)
                store.write(documents=[_doc(pk, filler), _doc(same, bodies[same])], timeout=30)
                commits.append(pk)
                stop.wait(0.05)
        except Exception:
            write_errors.append(traceback.format_exc(limit=3))

    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [
        context.Process(target=_process_main, args=(store.path, expected, 15, 3, results))
        for _ in range(3)
    ]
    errors: list[str] = []
    threads = [
        threading.Thread(target=_search_loop, args=(store, expected, 15, errors, f"t{i}"))
        for i in range(8)
    ]
    for process in processes:
        process.start()
    write_thread = threading.Thread(target=writer)
    write_thread.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    child_errors = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    stop.set()
    write_thread.join()

    assert not write_errors, write_errors
    assert len(commits) >= 3, "the writer committed while the searches ran"
    assert all(process.exitcode == 0 for process in processes)
    assert errors == [], errors[:3]
    assert [e for errs in child_errors for e in errs] == [], child_errors
    assert _answers(store) == expected  # and the final, refreshed searcher agrees


def test_each_thread_has_its_own_searcher_and_reopens_after_a_commit(tmp_path):
    from search.backend import get_store

    store = get_store(tmp_path / "index")
    store.write(documents=[_doc(1, "预算，执行")])
    mine = store.searcher()
    assert store.searcher() is mine  # reused while the index is unchanged
    other = []
    thread = threading.Thread(target=lambda: other.append(store.searcher()))
    thread.start()
    thread.join()
    assert other[0] is not mine
    store.write(documents=[_doc(2, "预算，监督")])
    fresh = store.searcher()
    assert fresh is not mine and fresh.up_to_date()
    assert fresh.doc_count() == 2
