import pytest

from policies.extraction import (
    NEEDS_OCR_MESSAGE,
    ExtractionError,
    decode_text,
    extract,
    markdown_to_text,
)

from .files import (
    SAMPLE_NOTICE,
    make_blank_pdf,
    make_docx,
    make_encrypted_pdf,
    make_pdf,
    make_zeros_zip,
)


def test_pdf_text_layer_is_read():
    result = extract(
        make_pdf([["元江县预算管理办法", "第一条 为了规范预算管理，制定本办法。"]]), "a.pdf"
    )
    assert "第一条 为了规范预算管理" in result.text
    assert result.pages == 1
    assert not result.needs_ocr


def test_pdf_without_text_layer_is_flagged():
    result = extract(make_blank_pdf(3), "scan.pdf")
    assert result.needs_ocr
    assert result.warnings == [NEEDS_OCR_MESSAGE]


def test_encrypted_pdf_gets_a_chinese_message():
    with pytest.raises(ExtractionError, match="已加密"):
        extract(make_encrypted_pdf(["第一条 机密内容。"]), "secret.pdf")


def test_corrupt_pdf():
    with pytest.raises(ExtractionError, match="损坏"):
        extract(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage", "broken.pdf")


def test_docx_paragraphs_numbering_and_tables():
    data = make_docx(
        ["元江县政府投资项目管理办法", "第一章 总则"],
        numbered=["为了规范政府投资，制定本办法。", "本办法适用于县级政府投资项目。"],
        table=[["项目", "金额（万元）"], ["道路", "1200"]],
    )
    text = extract(data, "a.docx").text
    assert "第一条 为了规范政府投资，制定本办法。" in text
    assert "第二条 本办法适用于县级政府投资项目。" in text
    assert "项目 | 金额（万元）" in text
    assert "道路 | 1200" in text


def test_corrupt_docx():
    with pytest.raises(ExtractionError, match="DOCX 文件已损坏"):
        extract(b"PK\x03\x04 this is not really a zip", "bad.docx")


def test_docx_without_body_part():
    from .files import make_zip

    with pytest.raises(ExtractionError, match="缺少正文"):
        extract(make_zip({"hello.txt": b"hi"}), "odd.docx")


def test_docx_bomb_is_refused_before_reading(settings):
    settings.POLICY_MAX_EXPANDED_BYTES = 8 * 1024 * 1024
    bomb = make_zeros_zip("word/media/huge.bin", 16 * 1024 * 1024, base=make_docx(["正文"]))
    assert len(bomb) < 200 * 1024
    with pytest.raises(ExtractionError, match="压缩炸弹"):
        extract(bomb, "bomb.docx")


def test_gbk_text_without_bom():
    data = SAMPLE_NOTICE.encode("gbk")
    assert not data.startswith(b"\xef\xbb\xbf")
    assert extract(data, "notice.txt").text.startswith("元江县人民政府办公室文件")


def test_utf8_with_bom_and_utf16():
    assert decode_text("\ufeff第一条".encode("utf-8")) == "第一条"
    assert decode_text("第一条".encode("utf-16")) == "第一条"


def test_undecodable_text():
    with pytest.raises(ExtractionError, match="编码"):
        decode_text(b"\x81\x20\xff\xfe\x00" * 3 + b"\xff")


def test_empty_file():
    with pytest.raises(ExtractionError, match="文件为空"):
        extract(b"", "empty.txt")


def test_unsupported_type():
    with pytest.raises(ExtractionError, match="不支持"):
        extract(b"data", "table.xlsx")
    with pytest.raises(ExtractionError, match=r"\.docx"):
        extract(b"data", "old.doc")


def test_markdown_keeps_title_and_drops_marks():
    source = (
        "---\ntitle: x\n---\n# 某某办法\n\n<!-- INFO END -->\n\n## 第一章 总则\n\n"
        "第一条 **重要**内容，见[附件](a.pdf)。\n"
    )
    text = markdown_to_text(source)
    assert text.splitlines()[0] == "# 某某办法"
    assert "第一章 总则" in text.splitlines()
    assert "第一条 重要内容，见附件。" in text
    assert "INFO END" not in text and "title: x" not in text
