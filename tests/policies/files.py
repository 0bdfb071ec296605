"""Test files made on the spot: PDFs with a Chinese text layer, DOCX with numbering and
tables, ZIPs that expand too far."""

import io
import zipfile


def make_pdf(pages: list[list[str]]) -> bytes:
    """A PDF whose pages carry *pages* (lines of text) in a text layer that pypdf reads back
    through a ToUnicode map (the glyphs themselves are not embedded: nobody looks)."""
    chars = sorted({ch for page in pages for line in page for ch in line})
    code = {ch: index + 1 for index, ch in enumerate(chars)}
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    def stream(data: bytes, extra: str = "") -> bytes:
        return f"<< /Length {len(data)} {extra}>>\nstream\n".encode() + data + b"\nendstream"

    catalog = add(b"")  # filled in below
    pages_id = add(b"")
    blocks = []
    for start in range(0, len(chars), 100):
        chunk = chars[start : start + 100]
        entries = "\n".join(f"<{code[ch]:04X}> <{ord(ch):04X}>" for ch in chunk)
        blocks.append(f"{len(chunk)} beginbfchar\n{entries}\nendbfchar")
    cmap = (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    ).encode()
    to_unicode = add(stream(cmap))
    descriptor = add(
        b"<< /Type /FontDescriptor /FontName /TestSong /Flags 4 /FontBBox [0 -200 1000 900]"
        b" /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>"
    )
    cid_font = add(
        f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /TestSong /CIDSystemInfo"
        f" << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor"
        f" {descriptor} 0 R /DW 1000 >>".encode()
    )
    font = add(
        f"<< /Type /Font /Subtype /Type0 /BaseFont /TestSong /Encoding /Identity-H"
        f" /DescendantFonts [{cid_font} 0 R] /ToUnicode {to_unicode} 0 R >>".encode()
    )
    page_ids = []
    for lines in pages:
        ops = ["BT", "/F1 10 Tf", "14 TL", "40 800 Td"]
        for line in lines:
            hexed = "".join(f"{code[ch]:04X}" for ch in line)
            ops.append(f"<{hexed}> Tj T*")
        ops.append("ET")
        content = add(stream("\n".join(ops).encode()))
        page_ids.append(
            add(
                f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 595 842]"
                f" /Resources << /Font << /F1 {font} 0 R >> >> /Contents {content} 0 R >>".encode()
            )
        )
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects[pages_id - 1] = f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode()
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode()
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def make_blank_pdf(pages: int = 2) -> bytes:
    """A scanned-looking PDF: pages, no text layer."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_encrypted_pdf(lines: list[str], password: str = "mima-2026") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([lines]))))
    writer.encrypt(user_password=password, owner_password="owner-" + password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx(
    paragraphs: list[str], numbered: list[str] = (), table: list[list[str]] = ()
) -> bytes:
    """A DOCX with plain paragraphs, then paragraphs auto-numbered 第%1条 (Word's own
    numbering, the words not in the text), then a table."""
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if numbered:
        numbering = document.part.numbering_part.element
        numbering.insert(
            0,
            parse_xml(
                f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">'
                '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>'
                '<w:lvlText w:val="第%1条"/></w:lvl></w:abstractNum>'
            ),
        )
        numbering.append(
            parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>')
        )
        for text in numbered:
            paragraph = document.add_paragraph(text)
            paragraph._p.get_or_add_pPr().append(
                parse_xml(
                    f'<w:numPr {nsdecls("w")}><w:ilvl w:val="0"/><w:numId w:val="90"/></w:numPr>'
                )
            )
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def make_zeros_zip(name: str, size: int, base: bytes | None = None) -> bytes:
    """A ZIP (or a DOCX when *base* is one) with a member of *size* zero bytes: small on
    disk, huge when expanded."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        if base:
            with zipfile.ZipFile(io.BytesIO(base)) as source:
                for info in source.infolist():
                    archive.writestr(info, source.read(info))
        with archive.open(name, "w", force_zip64=True) as handle:
            block = b"\0" * (1024 * 1024)
            for _ in range(size // len(block)):
                handle.write(block)
    return out.getvalue()


SAMPLE_NOTICE = """元江县人民政府办公室文件

元政办发〔2021〕7号

元江县人民政府办公室关于印发《元江县县级预算绩效管理办法》的通知

各乡（镇）人民政府，县政府各部门：
《元江县县级预算绩效管理办法》已经县人民政府同意，现印发给你们，请认真贯彻执行。

第一章 总则
第一条 为了加强县级预算绩效管理，提高财政资金使用效益，根据《中华人民共和国预算法》第十二条等规定，结合本县实际，制定本办法。
第二条 本办法适用于县级一般公共预算、政府性基金预算和国有资本经营预算。
第二章 绩效目标
第一节 目标设定
第三条 预算单位申请预算时，应当同时设定绩效目标。
绩效目标应当清晰、可衡量。
第三条之一 新增重大项目应当开展事前绩效评估。
第二节 目标审核
第四条 县财政局对绩效目标进行审核。
第三章 附则
第五条 本办法自2021年5月1日起施行。

元江县人民政府办公室
二〇二一年三月八日
"""
