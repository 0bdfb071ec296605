"""Issue 16 part 7: the briefing PDF read back — A4, a short table on one page with its
caption, column widths from content, metadata from the office."""

import io

import pytest
from docx import Document
from pypdf import PdfReader

from briefings import officialdoc

from .pdf_samples import sample_document

pytestmark = pytest.mark.skipif(
    not officialdoc.soffice_available(), reason="LibreOffice (soffice) is not installed"
)


def pages_with(texts, needle):
    return [number for number, text in enumerate(texts, start=1) if needle in text]


def test_alert_table_stays_on_one_page_with_its_caption():
    """Before: equal columns, the 6-row alert table ran over pages 2–4 and its caption
    stayed at the foot of page 2 (5 pages in all)."""
    pdf = officialdoc.docx_to_pdf(officialdoc.render_briefing_docx(sample_document(officialdoc)))
    reader = PdfReader(io.BytesIO(pdf))
    texts = [page.extract_text().replace(" ", "") for page in reader.pages]
    for page in reader.pages:
        box = page.mediabox
        assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    caption = pages_with(texts, "本期监督预警")
    rows = sorted({p for i in range(6) for p in pages_with(texts, f"预警事项样例{i}")})
    assert len(rows) == 1, texts
    assert caption == rows
    assert len(reader.pages) <= 3


def test_column_widths_follow_content():
    headers = ["月份", "预警事项", "等级", "状态", "预算单位"]
    rows = [["9月", "县交通运输局公路建设项目支出进度低于序时进度二十个百分点以上", "一般",
             "已反馈", "县交通运输局"]]  # fmt: skip
    widths = officialdoc.column_widths(headers, rows, 5)
    assert abs(sum(widths) - officialdoc.TEXT_WIDTH_MM) < 0.5
    assert widths[1] == max(widths) and widths[1] > 2 * widths[0]
    numeric = officialdoc.column_widths(
        ["科目编码", "科目名称", "调整预算数（万元）"], [["2010101", "行政运行", "1,234,567.89"]], 3
    )
    assert numeric[2] >= 12 * 12 * 0.3528  # twelve characters of 小四 fit unwrapped


def test_docx_metadata_names_the_office():
    document = sample_document(officialdoc)
    props = Document(io.BytesIO(officialdoc.render_briefing_docx(document))).core_properties
    assert props.author == props.last_modified_by == "县人大常委会预算工委"
    assert props.title == "2026年第三季度预算执行情况"
    assert "python-docx" not in (props.comments + props.author + props.title)
