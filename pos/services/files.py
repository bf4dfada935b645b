"""Attachments: content-checked, stored outside the web root under random names."""
from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import filetype

from pos.workflow import Invalid

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
# What the content must turn out to be, by the file's leading bytes.
ALLOWED_TYPES = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/msword": ".doc",
    "application/x-ole-storage": ".doc",
}
ALLOWED_HUMAN = "PDF, JPEG, PNG, GIF, WEBP, HEIC, DOCX, XLSX, ODT, DOC"


@dataclass
class Upload:
    filename: str
    data: bytes


@dataclass
class Stored:
    filename: str
    content_type: str
    size: int
    sha256: str
    storage_key: str


def _detect(data: bytes) -> str | None:
    kind = filetype.guess(data)
    if kind is None:
        return None
    mime = kind.mime
    if mime == "application/zip" or mime.startswith("application/vnd.openxmlformats") or mime.startswith("application/vnd.oasis"):
        # Office documents are zip files: look inside for the part that names them.
        if b"word/" in data[:65536]:
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        if b"xl/" in data[:65536]:
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if b"application/vnd.oasis.opendocument.text" in data[:200]:
            return "application/vnd.oasis.opendocument.text"
        return None
    return mime


def check(uploads: list[Upload]) -> list[tuple[Upload, str]]:
    """Validate every file first, so a bad one refuses the whole action and nothing is written."""
    uploads = [u for u in uploads if u.filename or u.data]
    if len(uploads) > MAX_FILES:
        raise Invalid(f"Можно приложить не более {MAX_FILES} файлов.", "files")
    checked = []
    for upload in uploads:
        name = os.path.basename(upload.filename or "файл")[:200] or "файл"
        if not upload.data:
            raise Invalid(f"Файл «{name}» пустой.", "files")
        if len(upload.data) > MAX_FILE_BYTES:
            raise Invalid(f"Файл «{name}» больше {MAX_FILE_BYTES // (1024 * 1024)} МБ.", "files")
        mime = _detect(upload.data)
        if mime not in ALLOWED_TYPES:
            raise Invalid(f"Файл «{name}»: содержимое не является документом допустимого типа "
                          f"({ALLOWED_HUMAN}).", "files")
        checked.append((Upload(name, upload.data), mime))
    return checked


def store(upload_dir: str, upload: Upload, mime: str) -> Stored:
    key = f"{uuid.uuid4().hex}{ALLOWED_TYPES[mime]}"
    path = Path(upload_dir) / key[:2] / key
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(upload.data)
    tmp.replace(path)
    return Stored(upload.filename, mime, len(upload.data), hashlib.sha256(upload.data).hexdigest(),
                  f"{key[:2]}/{key}")


def path_of(upload_dir: str, storage_key: str) -> Path:
    return Path(upload_dir) / storage_key
