"""One check for every uploaded file: type by content, size limit, allowed types per purpose.

Every upload point (suggestion answers and attachments, letter answers, department
materials, policy files, spreadsheet imports, admin documents) calls :func:`check_upload`
before anything is stored. The extension must be one the purpose allows *and* the bytes
must be what the extension says (magic bytes; for ZIP containers the part that makes a
DOCX, XLSX or OFD): an ``.exe`` renamed ``.pdf`` is refused with a Chinese message and
nothing is written.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

MB = 1024 * 1024

#: What each family of extensions must look like inside.
KIND_OF_EXTENSION = {
    "pdf": "pdf",
    "docx": "docx",
    "xlsx": "xlsx",
    "ofd": "ofd",
    "zip": "zip",
    "doc": "ole",
    "xls": "ole",
    "wps": "ole",
    "jpg": "jpeg",
    "jpeg": "jpeg",
    "png": "png",
    "txt": "text",
    "md": "text",
    "markdown": "text",
    "csv": "text",
}

KIND_LABELS = {
    "pdf": "PDF 文件",
    "docx": "Word（DOCX）文档",
    "xlsx": "Excel（XLSX）表格",
    "ofd": "OFD 版式文件",
    "zip": "ZIP 压缩包",
    "ole": "旧版 Office 文件",
    "jpeg": "JPEG 图片",
    "png": "PNG 图片",
    "text": "文本文件",
    "exe": "Windows 可执行程序",
    "elf": "Linux 可执行程序",
    "script": "脚本文件",
    "html": "网页（HTML）文件",
    "binary": "无法识别的二进制文件",
}


@dataclass(frozen=True)
class Purpose:
    label: str
    extensions: frozenset[str]
    max_bytes_setting: str
    default_max_bytes: int

    @property
    def max_bytes(self) -> int:
        return int(getattr(settings, self.max_bytes_setting, self.default_max_bytes))


OFFICE = frozenset(
    {"pdf", "ofd", "doc", "docx", "wps", "xls", "xlsx", "txt", "md", "jpg", "jpeg", "png", "zip"}
)
PURPOSES = {
    # 代表建议: 答复、协办意见、附件
    "suggestion": Purpose("建议办理文件", OFFICE, "SUGGESTIONS_ATTACHMENT_MAX_BYTES", 20 * MB),
    # 通报/函的书面答复
    "letter_answer": Purpose(
        "书面答复", frozenset({"pdf", "docx", "txt"}), "LETTERS_ANSWER_MAX_BYTES", 20 * MB
    ),
    # 部门报送材料
    "material": Purpose(
        "报送材料", frozenset({"pdf", "docx", "txt", "md"}), "BRIEFINGS_UPLOAD_MAX_BYTES", 20 * MB
    ),
    # 政策法规原件
    "policy": Purpose(
        "政策法规文件",
        frozenset({"pdf", "docx", "txt", "md", "markdown", "zip"}),
        "POLICY_MAX_UPLOAD_BYTES",
        50 * MB,
    ),
    # 数据导入（预算执行、交办清单、审议意见表）
    "spreadsheet": Purpose(
        "数据文件", frozenset({"xlsx", "csv"}), "UPLOAD_SPREADSHEET_MAX_BYTES", 20 * MB
    ),
    # 后台文档库
    "document": Purpose(
        "文档",
        frozenset({"pdf", "docx", "doc", "xlsx", "xls", "csv", "txt", "md", "zip"}),
        "UPLOAD_DOCUMENT_MAX_BYTES",
        50 * MB,
    ),
}


class UploadRefused(ValidationError):
    """The file may not be stored; ``messages[0]`` is the Chinese reason."""


def extension_of(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return "broken-zip"  # the reader of the file's own type says it is damaged
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "OFD.xml" in names or "ofd.xml" in names:
        return "ofd"
    return "zip"


def _looks_like_text(data: bytes) -> bool:
    sample = data[: 64 * 1024]
    if b"\x00" in sample and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            sample.decode(encoding)
            return True
        except UnicodeDecodeError as error:
            if error.start > len(sample) - 4:  # cut inside a multi-byte character
                return True
    return sample.startswith((b"\xff\xfe", b"\xfe\xff"))


def detect_kind(data: bytes) -> str:
    """What the bytes are, whatever the file is called."""
    head = data[:16]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(data)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"MZ"):
        return "exe"
    if head.startswith(b"\x7fELF"):
        return "elf"
    if head.startswith(b"#!"):
        return "script"
    if _looks_like_text(data):
        lowered = data[:1024].lstrip().lower()
        if lowered.startswith((b"<!doctype html", b"<html", b"<script", b"<svg")):
            return "html"
        return "text"
    return "binary"


def allowed_label(purpose: Purpose) -> str:
    return "、".join(f".{ext}" for ext in sorted(purpose.extensions))


def check_upload(name: str, data: bytes, purpose: str) -> str:
    """Refuse (``UploadRefused``, a Chinese message) a file that may not be stored for
    *purpose*; returns the file's kind. Call it before writing anything."""
    spec = PURPOSES[purpose]
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    if not base:
        raise UploadRefused("文件没有名称，无法上传。")
    ext = extension_of(base)
    if ext not in spec.extensions:
        raise UploadRefused(
            f"不支持的文件类型“.{ext or '无扩展名'}”：{spec.label}只接受 {allowed_label(spec)}。"
        )
    if not data:
        raise UploadRefused(f"文件为空（0 字节）：“{base}”未保存。")
    if len(data) > spec.max_bytes:
        raise UploadRefused(
            f"文件“{base}”过大（{len(data) / MB:.1f} MB），{spec.label}上限为 "
            f"{spec.max_bytes / MB:.0f} MB。"
        )
    kind = detect_kind(data)
    expected = KIND_OF_EXTENSION.get(ext)
    matches = (
        kind == expected
        or (expected == "zip" and kind in ("docx", "xlsx", "ofd"))  # a container is a ZIP too
        or (kind == "broken-zip" and expected in ("docx", "xlsx", "ofd", "zip"))
    )
    if not matches:
        actual = KIND_LABELS.get(kind, "无法识别的文件")
        wanted = KIND_LABELS.get(expected, f".{ext} 文件")
        raise UploadRefused(
            f"文件“{base}”的内容不是{wanted}（实际是{actual}），已拒绝，未保存。"
            f"请上传真实的{wanted}。"
        )
    return kind


def check_uploaded_file(upload, purpose: str) -> bytes:
    """Read a Django ``UploadedFile`` (refusing an oversized one before reading it) and
    check it; returns its bytes."""
    spec = PURPOSES[purpose]
    name = getattr(upload, "name", "") or ""
    size = getattr(upload, "size", None)
    if size and size > spec.max_bytes:
        raise UploadRefused(
            f"文件“{os.path.basename(name)}”过大（{size / MB:.1f} MB），{spec.label}上限为 "
            f"{spec.max_bytes / MB:.0f} MB。"
        )
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read()
    if hasattr(upload, "seek"):
        upload.seek(0)  # the caller may read it again
    check_upload(name, data, purpose)
    return data


def checked_clean(purpose: str, field: str = "file"):
    """A form's ``clean_<field>`` running :func:`check_uploaded_file` (one line per form:
    ``clean_file = checked_clean("spreadsheet")``)."""

    def clean(self):
        upload = self.cleaned_data.get(field)
        if upload is not None and hasattr(upload, "read"):
            try:
                check_uploaded_file(upload, purpose)
            except UploadRefused as error:
                raise ValidationError(error.messages[0]) from None
        return upload

    return clean
