"""Plain text out of PDF, DOCX, TXT and Markdown files.

Every failure is an ExtractionError carrying a Chinese message for the person who uploaded
the file; nothing here touches the database or the stored original.
"""

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field

from django.conf import settings

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_EXPANDED_BYTES = 200 * 1024 * 1024
DEFAULT_MAX_ZIP_MEMBERS = 2000
# a PDF whose pages carry fewer characters than this on average has no usable text layer
MIN_CHARS_PER_PAGE = 20

SUPPORTED_EXTENSIONS = {"pdf", "docx", "txt", "md", "markdown"}
NEEDS_OCR_MESSAGE = "无文字层，需要 OCR"


def max_upload_bytes() -> int:
    return int(getattr(settings, "POLICY_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def max_expanded_bytes() -> int:
    return int(getattr(settings, "POLICY_MAX_EXPANDED_BYTES", DEFAULT_MAX_EXPANDED_BYTES))


def max_pages() -> int:
    return int(getattr(settings, "POLICY_MAX_PAGES", 2000))


def max_zip_members() -> int:
    return int(getattr(settings, "POLICY_MAX_ZIP_MEMBERS", DEFAULT_MAX_ZIP_MEMBERS))


class ExtractionError(Exception):
    """A file we cannot read; str(error) is the Chinese message shown to people."""


@dataclass
class Extracted:
    text: str
    pages: int = 0
    needs_ocr: bool = False
    warnings: list[str] = field(default_factory=list)


def extension_of(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def extract(data: bytes, filename: str) -> Extracted:
    if not data:
        raise ExtractionError("文件为空（0 字节），没有可提取的内容。")
    ext = extension_of(filename)
    if ext == "pdf":
        return extract_pdf(data)
    if ext == "docx":
        return extract_docx(data)
    if ext in ("txt",):
        return Extracted(text=normalise_text(decode_text(data)))
    if ext in ("md", "markdown"):
        return Extracted(text=normalise_text(markdown_to_text(decode_text(data))))
    if ext == "doc":
        raise ExtractionError("不支持旧版 Word（.doc）文件，请另存为 .docx 后上传。")
    raise ExtractionError(
        f"不支持的文件类型“.{ext or '无扩展名'}”，请上传 PDF、DOCX、TXT 或 Markdown 文件。"
    )


# --- text files ---------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (a superset of GBK)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as error:
        raise ExtractionError(
            "无法识别文本文件的编码（既不是 UTF-8，也不是 GBK/GB18030），请转换为 UTF-8 后上传。"
        ) from error


_FRONT_MATTER = re.compile(r"\A---\s*\n.*?\n---\s*\n", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HEADING = re.compile(r"^(#{1,6})\s*(.*?)\s*#*\s*$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|(?<![\w*])\*(?!\s)|`)")


def markdown_to_text(source: str) -> str:
    """Markdown to plain lines: the first H1 stays marked ``# `` (the title), other heading
    marks, emphasis, links and comments go; the words stay."""
    source = _FRONT_MATTER.sub("", source)
    source = _COMMENT.sub("", source)
    lines = []
    seen_title = False
    for line in source.splitlines():
        heading = _HEADING.match(line)
        if heading:
            text = heading.group(2)
            if heading.group(1) == "#" and not seen_title:
                seen_title = True
                lines.append(f"# {text}")
            else:
                lines.append(text)
            continue
        line = _LINK.sub(r"\1", line)
        line = _EMPHASIS.sub("", line)
        if line.startswith("> "):
            line = line[2:]
        lines.append(line)
    return "\n".join(lines)


def normalise_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    lines = [line.rstrip() for line in text.split("\n")]
    # collapse runs of blank lines to one
    out = []
    for line in lines:
        if not line.strip() and out and not out[-1].strip():
            continue
        out.append(line)
    return "\n".join(out).strip()


# --- ZIP containers (DOCX and uploads) --------------------------------------------------


def check_zip_safe(archive: zipfile.ZipFile, what: str = "文件") -> None:
    """Refuse a ZIP whose members would expand beyond the limit, from the declared sizes,
    before a byte is decompressed."""
    infos = archive.infolist()
    if len(infos) > max_zip_members():
        raise ExtractionError(f"{what}包含的条目过多（{len(infos)} 个），疑似异常文件，已拒绝。")
    total = sum(info.file_size for info in infos)
    if total > max_expanded_bytes():
        raise ExtractionError(
            f"{what}解压后将达 {total // (1024 * 1024)} MB，超过上限"
            f"（{max_expanded_bytes() // (1024 * 1024)} MB），疑似压缩炸弹，已拒绝。"
        )


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, what: str = "文件") -> bytes:
    """Read one member, stopping if it expands past its declared size (a lying header)."""
    limit = min(info.file_size, max_expanded_bytes())
    chunks, size = [], 0
    with archive.open(info) as handle:
        while True:
            chunk = handle.read(1024 * 1024)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise ExtractionError(f"{what}中的“{info.filename}”解压后超过声明的大小，已拒绝。")
            chunks.append(chunk)
    return b"".join(chunks)


# --- PDF -------------------------------------------------------------------------------


def extract_pdf(data: bytes) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError, PdfStreamError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # an owner-password-only PDF opens with the empty user password
            try:
                opened = reader.decrypt("")
            except Exception as error:  # pypdf raises several kinds for unknown crypt filters
                raise ExtractionError(
                    "PDF 文件已加密，无法读取其内容。请提供未加密的文件。"
                ) from error
            if not opened:
                raise ExtractionError(
                    "PDF 文件已加密（需要密码才能打开），无法提取文字。请提供未加密的文件。"
                )
        if len(reader.pages) > max_pages():
            raise ExtractionError(
                f"PDF 页数过多（{len(reader.pages)} 页），超过上限 {max_pages()} 页，"
                "请拆分后分别上传。"
            )
        texts = []
        for page in reader.pages:
            texts.append(page.extract_text() or "")
    except ExtractionError:
        raise
    except FileNotDecryptedError as error:
        raise ExtractionError("PDF 文件已加密（需要密码才能打开），无法提取文字。") from error
    except (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ExtractionError("PDF 文件已损坏或格式不正确，无法读取。") from error
    pages = len(texts)
    text = normalise_text("\n".join(texts))
    visible = len(re.sub(r"\s", "", text))
    needs_ocr = pages > 0 and visible < MIN_CHARS_PER_PAGE * pages
    warnings = [NEEDS_OCR_MESSAGE] if needs_ocr else []
    return Extracted(text=text, pages=pages, needs_ocr=needs_ocr, warnings=warnings)


# --- DOCX ----------------------------------------------------------------------------

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


def extract_docx(data: bytes) -> Extracted:
    """The body's paragraphs and tables, read as a stream.

    document.xml is parsed element by element (lxml ``iterparse``) and each top-level
    paragraph or table is dropped once its text is taken, so time and memory follow the
    text, not the markup. (python-docx built the whole tree with a proxy object per
    element: a 339 KB DOCX of many small formatted runs expands to ~100 MB of XML and took
    ~55 s and 1.8 GB that way.)"""
    from lxml import etree

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise ExtractionError("DOCX 文件已损坏（不是有效的 Word 文档），无法读取。") from error
    with archive:
        check_zip_safe(archive, "DOCX 文件")
        names = set(archive.namelist())
        if "word/document.xml" not in names:
            raise ExtractionError("DOCX 文件已损坏（缺少正文部分），无法读取。")
        try:
            numbering = _Numbering(_numbering_root(archive, names))
            with archive.open("word/document.xml") as handle:
                lines = list(_body_lines(handle, numbering))
        except ExtractionError:
            raise
        except (etree.LxmlError, zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
            raise ExtractionError("DOCX 文件已损坏或格式不正确，无法读取。") from error
    return Extracted(text=normalise_text("\n".join(lines)))


def _xml(data: bytes):
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(data, parser)


def _numbering_root(archive: zipfile.ZipFile, names: set[str]):
    """numbering.xml (where document.xml's relationships say it is), parsed, or None."""
    target = "word/numbering.xml"
    rels = "word/_rels/document.xml.rels"
    if rels in names:
        root = _xml(read_member(archive, archive.getinfo(rels), "DOCX 文件"))
        for rel in root:
            if (rel.get("Type") or "").endswith("/numbering") and rel.get("Target"):
                found = rel.get("Target").lstrip("/")
                target = found if found.startswith("word/") else f"word/{found}"
    if target not in names:
        return None
    return _xml(read_member(archive, archive.getinfo(target), "DOCX 文件"))


def _body_lines(handle, numbering):
    from lxml import etree

    body, paragraph, table = _w("body"), _w("p"), _w("tbl")
    context = etree.iterparse(
        handle,
        events=("end",),
        tag=(paragraph, table),
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
    )
    for _event, element in context:
        parent = element.getparent()
        if parent is None or parent.tag != body:
            continue  # inside a table: read with the table
        if element.tag == paragraph:
            yield _paragraph_text(element, numbering)
        else:
            yield from _table_lines(element)
        element.clear()
        while element.getprevious() is not None:  # drop what is done
            del parent[0]


def _paragraph_text(element, numbering) -> str:
    text = "".join(
        (node.text or "") if node.tag == _w("t") else " "
        for node in element.iter(_w("t"), _w("tab"))
    )
    prefix = numbering.label_for(element)
    if prefix:
        separator = "" if prefix.endswith((" ", "\u3000", "、", "．", ".")) else " "
        return f"{prefix}{separator}{text}"
    return text


def _table_lines(table) -> list[str]:
    """One line per row of the table, cells joined by " | "; a table nested in a cell is
    part of that cell's text (once: rows and cells are the table's own children)."""
    lines = []
    for row in table.iterchildren(_w("tr")):
        cells = []
        for cell in row.iterchildren(_w("tc")):
            cell_text = " ".join(
                "".join(t.text or "" for t in p.iter(_w("t"))) for p in cell.iter(_w("p"))
            ).strip()
            cells.append(cell_text)
        lines.append(" | ".join(cells))
    return lines


class _Numbering:
    """Automatic paragraph numbering (编号) of a DOCX, rendered as text: Word stores "第%1条"
    and a counter, not the words, so python-docx alone returns the paragraph without them."""

    def __init__(self, root):
        self.levels = {}  # (numId, ilvl) → (numFmt, lvlText, start)
        self.counters = {}
        if root is None:
            return
        abstract = {}
        for node in root.findall(_w("abstractNum")):
            levels = {}
            for lvl in node.findall(_w("lvl")):
                fmt = lvl.find(_w("numFmt"))
                text = lvl.find(_w("lvlText"))
                start = lvl.find(_w("start"))
                levels[int(lvl.get(_w("ilvl"), "0"))] = (
                    fmt.get(_w("val")) if fmt is not None else "decimal",
                    text.get(_w("val")) if text is not None else "",
                    int(start.get(_w("val"))) if start is not None else 1,
                )
            abstract[node.get(_w("abstractNumId"))] = levels
        for num in root.findall(_w("num")):
            ref = num.find(_w("abstractNumId"))
            if ref is None:
                continue
            for ilvl, spec in abstract.get(ref.get(_w("val")), {}).items():
                self.levels[(num.get(_w("numId")), ilvl)] = spec

    def label_for(self, paragraph) -> str:
        if not self.levels:
            return ""
        num_pr = paragraph.find(f"{_w('pPr')}/{_w('numPr')}")
        if num_pr is None:
            return ""
        num_id_node = num_pr.find(_w("numId"))
        ilvl_node = num_pr.find(_w("ilvl"))
        if num_id_node is None:
            return ""
        num_id = num_id_node.get(_w("val"))
        ilvl = int(ilvl_node.get(_w("val"))) if ilvl_node is not None else 0
        if (num_id, ilvl) not in self.levels:
            return ""
        counters = self.counters.setdefault(num_id, {})
        _fmt, _text, start = self.levels[(num_id, ilvl)]
        counters[ilvl] = counters.get(ilvl, start - 1) + 1
        for deeper in [level for level in counters if level > ilvl]:
            del counters[deeper]
        fmt, text, _start = self.levels[(num_id, ilvl)]
        if fmt == "bullet" or fmt == "none":
            return ""

        def replace(match):
            level = int(match.group(1)) - 1
            level_fmt = self.levels.get((num_id, level), (fmt, "", 1))[0]
            level_start = self.levels.get((num_id, level), (fmt, "", 1))[2]
            return format_number(counters.get(level, level_start), level_fmt)

        return re.sub(r"%(\d)", replace, text)


def format_number(value: int, fmt: str) -> str:
    from .detection import int_to_cn

    if fmt in (
        "chineseCounting",
        "chineseCountingThousand",
        "chineseLegalSimplified",
        "ideographTraditional",
        "taiwaneseCounting",
        "japaneseCounting",
    ):
        return int_to_cn(value)
    if fmt == "upperLetter":
        return chr(ord("A") + (value - 1) % 26)
    if fmt == "lowerLetter":
        return chr(ord("a") + (value - 1) % 26)
    if fmt in ("upperRoman", "lowerRoman"):
        numerals = [(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
        out, rest = "", value
        for number, letters in numerals:
            while rest >= number:
                out += letters
                rest -= number
        return out if fmt == "upperRoman" else out.lower()
    return str(value)
