"""The official-format DOCX layouts (简报, GB/T 9704) and their PDF rendition."""

import datetime
import io
import shutil
import threading

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Emu, Pt

from briefings import officialdoc as od

needs_soffice = pytest.mark.skipif(
    shutil.which("soffice") is None,
    reason="LibreOffice（soffice）未安装：PDF 转换测试跳过（CI 安装了它）",
)


def briefing(**extra):
    values = dict(
        masthead="预算联网监督简报",
        year=2026,
        issue_number=7,
        editor="县人大常委会预算工委编",
        date=datetime.date(2026, 3, 8),
        editor_note="本期反映一季度预算执行情况。",
        blocks=[
            od.Heading("总体情况"),
            od.Paragraph("1—3月，一般公共预算支出累计完成12345万元，占调整预算的21.3%。"),
            od.Heading("分项情况", 2),
            od.Table(
                ["科目", "调整预算", "执行"], [["一般公共服务支出", "1,200.00", "780.00"]], "表1"
            ),
            od.Heading("存在问题", 3),
            od.Paragraph("第一段。\n第二段。"),
        ],
        recipients=["县委财经委员会", "县人大常委会领导", "县财政局"],
        print_count=35,
    )
    values.update(extra)
    return od.BriefingDocument(**values)


def report(**extra):
    values = dict(
        title="关于县财政局一般公共预算支出进度偏慢有关问题的函",
        issuer="元江县人大常委会预算工作委员会",
        recipients=["县财政局"],
        date=datetime.date(2026, 3, 8),
        blocks=[od.Paragraph("经联网查询发现……"), od.Heading("一、存在问题")],
        doc_number="元人预函〔2026〕7号",
        cc=["县人大常委会办公室"],
        attachments=["预警明细表"],
    )
    values.update(extra)
    return od.ReportDocument(**values)


def mm(length):
    return round(Emu(length).mm, 1)


def open_docx(data):
    return Document(io.BytesIO(data))


def east_asia(run):
    rfonts = run._element.rPr.find(qn("w:rFonts"))
    return rfonts.get(qn("w:eastAsia")) if rfonts is not None else None


def all_runs(document):
    for paragraph in document.paragraphs:
        yield from paragraph.runs
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    yield from paragraph.runs


def text_of(document):
    return "\n".join(p.text for p in document.paragraphs)


def test_format_chinese_date_has_no_leading_zeros():
    assert od.format_chinese_date(datetime.date(2026, 3, 8)) == "2026年3月8日"
    assert od.format_chinese_date(datetime.date(2026, 11, 20)) == "2026年11月20日"
    assert od.format_chinese_date("2026-01-05") == "2026年1月5日"


def test_chinese_numerals():
    assert [od.chinese_numeral(n) for n in (1, 9, 10, 11, 20, 23)] == [
        "一", "九", "十", "十一", "二十", "二十三",
    ]  # fmt: skip


def test_gbt9704_page_setup():
    document = open_docx(od.render_report_docx(report()))
    section = document.sections[0]
    # stored in twips: compare in millimetres to 0.05 mm
    assert mm(section.page_width) == 210 and mm(section.page_height) == 297
    assert mm(section.top_margin) == 37 and mm(section.left_margin) == 28
    # text block 156 × 225 mm
    assert mm(section.page_width - section.left_margin - section.right_margin) == 156
    assert mm(section.page_height - section.top_margin - section.bottom_margin) == 225
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:linePitch")) == "579"  # 28.95 pt: 22 lines in 225 mm
    normal = document.styles["Normal"]
    assert normal.font.size == Pt(16)
    assert normal.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "仿宋"
    assert normal.paragraph_format.line_spacing == Pt(28.95)


def test_gbt9704_fonts_title_doc_number_and_dates():
    document = open_docx(od.render_report_docx(report()))
    paragraphs = [p for p in document.paragraphs if p.text.strip()]
    texts = [p.text for p in paragraphs]
    assert texts[0] == "元人预函〔2026〕7号"
    title = paragraphs[1]
    assert title.text == "关于县财政局一般公共预算支出进度偏慢有关问题的函"
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert title.runs[0].font.size == Pt(22)
    assert east_asia(title.runs[0]) == "方正小标宋简体"
    assert texts[2] == "县财政局："  # 主送
    body = paragraphs[3]
    assert body.runs[0].font.size == Pt(16) and east_asia(body.runs[0]) == "仿宋"
    assert body.paragraph_format.first_line_indent == Pt(32)  # two characters
    heading = paragraphs[4]
    assert heading.text == "一、存在问题"  # numbering not doubled
    assert east_asia(heading.runs[0]) == "黑体"
    assert "附件：预警明细表" in texts
    assert "2026年3月8日" in texts
    assert any(t.startswith("抄送：县人大常委会办公室") for t in texts)
    # every run names its Chinese font through w:eastAsia
    assert all(east_asia(run) for run in all_runs(document) if run.text.strip())
    # the fallback for the title font is declared in the font table
    font_table = next(
        rel.target_part for rel in document.part.rels.values() if rel.reltype.endswith("/fontTable")
    )
    assert "方正小标宋简体".encode() in font_table.blob and "宋体".encode() in font_table.blob


def test_page_number_field_in_both_footers():
    document = open_docx(od.render_report_docx(report()))
    section = document.sections[0]
    assert document.settings.odd_and_even_pages_header_footer
    for footer, align in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        paragraph = footer.paragraphs[0]
        xml = paragraph._p.xml
        assert "PAGE" in "".join(t.text for t in paragraph._p.iter(qn("w:instrText")))
        assert 'w:fldCharType="begin"' in xml and 'w:fldCharType="end"' in xml
        assert paragraph.text.startswith("— ") and paragraph.text.endswith(" —")
        assert paragraph.alignment == align
        assert all(run.font.size == Pt(14) for run in paragraph.runs if run.text)
        assert {east_asia(run) for run in paragraph.runs if run.text} == {"宋体"}


def test_heading_levels_numbered_with_their_fonts():
    document = open_docx(od.render_briefing_docx(briefing()))
    by_text = {p.text: p for p in document.paragraphs}
    assert east_asia(by_text["一、总体情况"].runs[0]) == "黑体"
    assert east_asia(by_text["（一）分项情况"].runs[0]) == "楷体"
    assert east_asia(by_text["1．存在问题"].runs[0]) == "仿宋"
    assert "第一段。" in by_text and "第二段。" in by_text


def test_briefing_masthead_red_rule_and_foot():
    document = open_docx(od.render_briefing_docx(briefing()))
    paragraphs = [p for p in document.paragraphs if p.text.strip()]
    masthead = paragraphs[0]
    assert masthead.text == "预算联网监督简报"
    assert masthead.alignment == WD_ALIGN_PARAGRAPH.CENTER
    run = masthead.runs[0]
    assert str(run.font.color.rgb) == "FF0000"
    assert run.font.size >= Pt(36)
    assert east_asia(run) == "方正小标宋简体"
    assert paragraphs[1].text == "第7期"
    editor_line = paragraphs[2]
    assert editor_line.text == "县人大常委会预算工委编\t2026年3月8日"
    stops = editor_line.paragraph_format.tab_stops
    assert len(stops) == 1 and stops[0].alignment == 2  # right-aligned tab: date on the right
    bottom = editor_line._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert bottom.get(qn("w:color")) == "FF0000"  # the red rule
    assert paragraphs[3].text.startswith("编者按：")
    texts = [p.text for p in paragraphs]
    assert "印送：县委财经委员会，县人大常委会领导，县财政局。" in texts
    assert "（共印35份）" in texts
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["科目", "调整预算", "执行"]
    assert table.rows[1].cells[1].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert all(east_asia(run) for run in all_runs(document) if run.text.strip())


def test_image_block_and_missing_image(tmp_path):
    from PIL import Image as PILImage

    picture = tmp_path / "chart.png"
    PILImage.new("RGB", (40, 20), "red").save(picture)
    document = open_docx(od.render_briefing_docx(briefing(blocks=[od.Image(str(picture), "图1")])))
    assert len(document.inline_shapes) == 1
    assert "图1" in text_of(document)
    with pytest.raises(od.RenditionError, match="图片文件不存在"):
        od.render_briefing_docx(briefing(blocks=[od.Image(str(tmp_path / "none.png"))]))


def test_docx_to_pdf_without_soffice_is_a_chinese_error(settings):
    settings.OFFICIALDOC_SOFFICE = "/nonexistent/soffice"
    with pytest.raises(od.RenditionError, match="未安装 LibreOffice"):
        od.docx_to_pdf(od.render_report_docx(report()))


def test_docx_to_pdf_failure_and_timeout(settings, tmp_path):
    failing = tmp_path / "fake-soffice"
    failing.write_text("#!/bin/sh\necho broken >&2\nexit 3\n")
    failing.chmod(0o755)
    settings.OFFICIALDOC_SOFFICE = str(failing)
    with pytest.raises(od.RenditionError, match="PDF 转换失败（LibreOffice 返回 3）"):
        od.docx_to_pdf(b"PK")
    slow = tmp_path / "slow-soffice"
    slow.write_text("#!/bin/sh\nsleep 30\n")
    slow.chmod(0o755)
    settings.OFFICIALDOC_SOFFICE = str(slow)
    with pytest.raises(od.RenditionError, match="超时"):
        od.docx_to_pdf(b"PK", timeout=1)


def _font_families():
    import subprocess

    return subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True).stdout


def pdf_text(data):
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return reader, "".join("".join(page.extract_text().split()) for page in reader.pages)


@needs_soffice
def test_briefing_pdf_shows_masthead_issue_and_body():
    data = od.docx_to_pdf(od.render_briefing_docx(briefing()))
    assert data.startswith(b"%PDF")
    reader, text = pdf_text(data)
    box = reader.pages[0].mediabox
    assert (
        round(float(box.width) / 72 * 25.4) == 210 and round(float(box.height) / 72 * 25.4) == 297
    )
    for expected in ("预算联网监督简报", "第7期", "2026年3月8日", "一、总体情况", "共印35份"):
        assert expected in text
    assert "—1—" in text  # the page number field was rendered


@needs_soffice
def test_report_pdf_has_title_and_28_characters_a_line():
    long = "预" * (28 * 60)
    data = od.docx_to_pdf(od.render_report_docx(report(blocks=[od.Paragraph(long)])))
    reader, text = pdf_text(data)
    assert "关于县财政局一般公共预算支出进度偏慢有关问题的函" in text
    assert "元人预函〔2026〕7号" in text
    lines = [ln for ln in reader.pages[0].extract_text().splitlines() if set(ln) == {"预"}]
    # first line indented two characters, then full lines of 28
    assert len(lines[0]) == 26 and len(lines[1]) == 28
    # 仿宋 is rendered with the substitute from Debian's fonts, not fontconfig's sans-serif guess
    if shutil.which("fc-list") and "AR PL UMing CN" in _font_families():
        fonts = {
            str(font.get_object()["/BaseFont"])
            for page in reader.pages
            for font in (page["/Resources"].get("/Font") or {}).values()
        }
        assert any("UMing" in name for name in fonts), fonts
    # a page of body text holds 22 lines
    full_page = [ln for ln in reader.pages[1].extract_text().splitlines() if set(ln) == {"预"}]
    assert len(full_page) == 22


@needs_soffice
def test_concurrent_conversions_do_not_share_a_profile():
    docs = [od.render_report_docx(report(doc_number=f"元人预函〔2026〕{n}号")) for n in (1, 2)]
    results, errors = {}, []

    def convert(index):
        try:
            results[index] = od.docx_to_pdf(docs[index])
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=convert, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert "元人预函〔2026〕1号" in pdf_text(results[0])[1]
    assert "元人预函〔2026〕2号" in pdf_text(results[1])[1]


def test_briefing_title_follows_the_masthead_block_centred_in_title_size():
    document = open_docx(od.render_briefing_docx(briefing(title="一季度预算执行情况分析")))
    paragraphs = [p for p in document.paragraphs if p.text.strip()]
    texts = [p.text for p in paragraphs]
    title = paragraphs[texts.index("一季度预算执行情况分析")]
    assert texts.index("一季度预算执行情况分析") > texts.index("第7期")
    assert texts.index("一季度预算执行情况分析") < texts.index("一、总体情况")
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert title.runs[0].font.size == Pt(22)
    assert east_asia(title.runs[0]) == "方正小标宋简体"
    # without a title nothing extra appears
    plain = [p.text for p in open_docx(od.render_briefing_docx(briefing())).paragraphs]
    assert "一季度预算执行情况分析" not in plain
