"""Extraction in a child process under limits, and the DOCX shape that used to cost ~1 GB."""

import io
import resource
import zipfile

import pytest

from policies.extract_child import extract_limited
from policies.extraction import ExtractionError, extract

from .files import make_docx, make_pdf

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def bloated_docx(paragraphs: int, runs: int = 10) -> bytes:
    """A small DOCX whose body is many short paragraphs of separately formatted runs (a
    few hundred KB on disk, tens of MB of XML)."""
    rpr = '<w:rPr><w:rFonts w:eastAsia="宋体"/><w:b/><w:sz w:val="28"/></w:rPr>'
    return docx_with_body(
        "".join(
            "<w:p>" + f"<w:r>{rpr}<w:t>第{n}段</w:t></w:r>" * runs + "</w:p>"
            for n in range(paragraphs)
        )
    )


def docx_with_body(body: str) -> bytes:
    base = zipfile.ZipFile(io.BytesIO(make_docx(["x"])))
    xml = f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in base.infolist():
            data = xml.encode() if info.filename == "word/document.xml" else base.read(info)
            target.writestr(info.filename, data)
    return out.getvalue()


def test_bloated_docx_is_read_as_a_stream_in_bounded_memory():
    data = bloated_docx(8000)
    assert len(data) < 200_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    text = extract(data, "a.docx").text
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert text.count("第7999段") == 10
    # the whole-tree reader grew by hundreds of MB on this file; the stream stays small
    assert grown_mb < 120


def test_nested_tables_are_read_once():
    import docx

    document = docx.Document()
    outer = document.add_table(rows=1, cols=2)
    outer.cell(0, 0).text = "外层"
    inner = outer.cell(0, 1).add_table(rows=1, cols=1)
    inner.cell(0, 0).text = "内层"
    out = io.BytesIO()
    document.save(out)
    text = extract(out.getvalue(), "t.docx").text
    assert text.count("内层") == 1 and "外层" in text


def test_child_process_extracts_like_the_reader_itself():
    pdf = make_pdf([["元江县政府采购规定", "第一条 为了规范采购，制定本规定。"]])
    assert extract_limited(pdf, "a.pdf").text == extract(pdf, "a.pdf").text
    with pytest.raises(ExtractionError, match="已损坏"):
        extract_limited(b"PK\x03\x04 broken", "a.docx")


def test_memory_limit_gives_a_chinese_reason(settings):
    # six runs of 2 million characters: ~60 KB on disk, far more than 60 MB once read
    huge = docx_with_body(("<w:p><w:r><w:t>" + "预" * 2_000_000 + "</w:t></w:r></w:p>") * 6)
    assert len(huge) < 200_000
    settings.POLICY_EXTRACT_MEMORY_MB = 60
    with pytest.raises(ExtractionError, match="内存超过上限（60 MB）"):
        extract_limited(huge, "a.docx")


def test_time_limit_gives_a_chinese_reason(settings):
    settings.POLICY_EXTRACT_WALL_SECONDS = 0.05
    with pytest.raises(ExtractionError, match="超时"):
        extract_limited(bloated_docx(4000), "a.docx")


def test_page_limit_gives_a_chinese_reason(settings):
    settings.POLICY_MAX_PAGES = 3
    pdf = make_pdf([[f"第{n}页"] for n in range(5)])
    with pytest.raises(ExtractionError, match="页数过多（5 页）"):
        extract_limited(pdf, "a.pdf")
