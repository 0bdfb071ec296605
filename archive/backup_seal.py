"""Sealing backups (issue 14, found item 4): nobody without the backup key can read a
backup, and nobody can forge or alter one so that it verifies or restores.

The key is one file outside DATA_DIR (settings.BACKUP_KEY_FILE, env BACKUP_KEY_FILE),
created 0600 on first use. From it HKDF derives two keys:

- a Fernet key (AES-128-CBC + HMAC-SHA256, from the ``cryptography`` library) that
  encrypts every file of the backup, the manifest included; a changed or foreign file
  fails to decrypt;
- an HMAC-SHA256 key that signs the plaintext manifest; the signature and the key's
  id are in the completion marker COMPLETE, which holds nothing secret.

A backup is read only through ``unsealed(path)``: every file decrypted into a private
folder (0700) that is removed afterwards.
"""

import base64
import hashlib
import hmac
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

SEAL_FORMAT = "sealed-1"
FILE_MODE = 0o600
DIR_MODE = 0o700


class SealError(Exception):
    """A key or seal problem; the message is Chinese and shown to people."""


def key_path() -> Path:
    default = Path.home() / ".config" / "rd-budget" / "backup.key"
    return Path(getattr(settings, "BACKUP_KEY_FILE", None) or default).expanduser().resolve()


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def master_key() -> bytes:
    path = key_path()
    data_dir = Path(settings.DATA_DIR).resolve()
    if _inside(path, data_dir):
        raise SealError(
            f"备份密钥文件 {path} 在数据目录 DATA_DIR 之内：拿到数据目录的人也就拿到了密钥。"
            "请用环境变量 BACKUP_KEY_FILE 指定数据目录以外的位置。"
        )
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(base64.urlsafe_b64encode(os.urandom(32)) + b"\n")
                f.flush()
                os.fsync(f.fileno())
    if path.stat().st_mode & 0o077:
        os.chmod(path, FILE_MODE)
    try:
        key = base64.urlsafe_b64decode(path.read_bytes().strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise SealError(f"备份密钥文件 {path} 已损坏（应为 32 字节的 base64 密钥）。")
    return key


def _derive(purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master_key())


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(b"rd-backup encryption")))


def key_id() -> str:
    return hashlib.sha256(_derive(b"rd-backup key id")).hexdigest()[:16]


def manifest_signature(raw: bytes) -> str:
    return hmac.new(_derive(b"rd-backup manifest"), raw, hashlib.sha256).hexdigest()


def _write_private(path: Path, data: bytes) -> None:
    part = path.with_name(path.name + ".part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(part, path)
    os.chmod(path, FILE_MODE)


def make_private(folder: Path) -> None:
    """Folders 0700, files 0600, under and including *folder*."""
    os.chmod(folder, DIR_MODE)
    for dirpath, dirnames, filenames in os.walk(folder):
        for d in dirnames:
            os.chmod(Path(dirpath) / d, DIR_MODE)
        for name in filenames:
            os.chmod(Path(dirpath) / name, FILE_MODE)


def seal_folder(folder: Path, manifest_raw: bytes, skip=()) -> dict:
    """Encrypt every file of *folder* in place and return the marker's seal fields."""
    fernet = _fernet()
    for dirpath, _dirnames, filenames in os.walk(folder):
        for name in filenames:
            path = Path(dirpath) / name
            if path.relative_to(folder).as_posix() in skip:
                continue
            _write_private(path, fernet.encrypt(path.read_bytes()))
    make_private(folder)
    return {
        "seal": SEAL_FORMAT,
        "key_id": key_id(),
        "manifest_hmac": manifest_signature(manifest_raw),
    }


def check_marker(marker: dict) -> list[str]:
    if marker.get("seal") != SEAL_FORMAT or not marker.get("manifest_hmac"):
        return ["备份未经认证（完成标记中没有密钥签名）：可能是旧格式或伪造的备份，不能使用"]
    if marker.get("key_id") != key_id():
        return ["备份不是用本系统的备份密钥制作的（可能来自其他系统或密钥已更换），不能使用"]
    return []


def open_manifest(raw_encrypted: bytes, marker: dict) -> tuple[bytes | None, list[str]]:
    """The plaintext manifest, if it decrypts and its signature holds."""
    try:
        raw = _fernet().decrypt(raw_encrypted)
    except InvalidToken:
        return None, ["清单无法用本系统的备份密钥解密：备份被改动或来自其他系统"]
    if not hmac.compare_digest(manifest_signature(raw), str(marker.get("manifest_hmac"))):
        return None, ["清单未通过认证：清单在备份完成后被改动"]
    return raw, []


def decrypt_file(path: Path) -> bytes:
    return _fernet().decrypt(path.read_bytes())


@contextmanager
def unsealed(folder: Path, skip=()):
    """Yield (plain_folder, problems): each file of *folder* decrypted into a private
    folder under DATA_DIR; files that do not decrypt are listed in problems, not copied."""
    fernet = _fernet()
    plain = Path(settings.DATA_DIR) / f".unsealed-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    plain.mkdir(mode=DIR_MODE)
    problems = []
    try:
        for dirpath, _dirnames, filenames in os.walk(folder):
            for name in sorted(filenames):
                src = Path(dirpath) / name
                rel = src.relative_to(folder)
                if rel.as_posix() in skip:
                    continue
                dest = plain / rel
                dest.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
                try:
                    data = fernet.decrypt(src.read_bytes())
                except InvalidToken:
                    problems.append(f"文件无法用本系统的备份密钥解密（被改动或被替换）：{rel}")
                    continue
                _write_private(dest, data)
        yield plain, problems
    finally:
        shutil.rmtree(plain, ignore_errors=True)
