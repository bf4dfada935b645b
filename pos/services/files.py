"""Attachments: content-checked, stored outside the web root under random names."""
from __future__ import annotations

import hashlib
import io
import os
import re
import unicodedata
import uuid
import zipfile
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
# Other spellings of a type's extension that a name may keep.
SAME_TYPE = {".jpeg": ".jpg", ".jpe": ".jpg", ".heif": ".heic"}
ZIP_TYPES = {"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "application/vnd.oasis.opendocument.text"}
# An Office file is a zip: what its parts declare when unpacked, at most (a 10 MB document holds
# far less; a zip bomb claims far more).
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_ZIP_PARTS = 5000
MAX_NAME = 200
# Control characters (C0, DEL, C1) break the download's headers; bidirectional controls make
# «fdp.exe» look like «exe.pdf». Neither belongs in a file name.
_NOT_IN_NAMES = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
                           "\ufeff\u2028\u2029]")


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


def _zip_type(data: bytes) -> str | None:
    """An Office document by the parts its zip names; None for any other zip (or a broken one)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "word/document.xml" in names:
                return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            if "xl/workbook.xml" in names:
                return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 200 \
                    and archive.read("mimetype").strip() == b"application/vnd.oasis.opendocument.text":
                return "application/vnd.oasis.opendocument.text"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, NotImplementedError, OSError,
            EOFError):
        return None
    return None


def _detect(data: bytes) -> str | None:
    kind = filetype.guess(data)
    if kind is None:
        return None
    mime = kind.mime
    if mime == "application/zip" or mime.startswith("application/vnd.openxmlformats") \
            or mime.startswith("application/vnd.oasis"):
        return _zip_type(data)
    return mime


def unpacked_size_ok(data: bytes) -> bool:
    """The zip's declared sizes (its central directory; nothing is extracted) are within reason."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        return False
    return len(parts) <= MAX_ZIP_PARTS and sum(p.file_size for p in parts) <= MAX_UNPACKED_BYTES


def clean_name(name: str | None) -> str:
    """A file name as people may see and download it: its last path part, without control and
    bidirectional characters, at most MAX_NAME characters (its extension kept)."""
    name = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/")
    name = _NOT_IN_NAMES.sub("", os.path.basename(name)).strip().strip(".")
    stem, ext = os.path.splitext(name)
    if len(ext) > 10:
        stem, ext = name, ""
    return (stem[:MAX_NAME - len(ext)] + ext).strip() or "файл"


def named_for_type(name: str | None, mime: str) -> str:
    """The clean name with the extension of the type found by content (a PNG named .pdf becomes .png)."""
    name = clean_name(name)
    wanted = ALLOWED_TYPES.get(mime)
    if wanted is None:
        return name
    stem, ext = os.path.splitext(name)
    if SAME_TYPE.get(ext.lower(), ext.lower()) == wanted:
        return name
    return f"{stem or 'файл'}{wanted}"


def human_size(size: int | None) -> str:
    """«512 байт», «1,5 КБ», «2,3 МБ»: never «0 КБ» for a file that is not empty."""
    size = int(size or 0)
    if size < 1024:
        few = size % 10 in (2, 3, 4) and size % 100 not in (12, 13, 14)
        return f"{size} байта" if few else f"{size} байт"
    if size < 1024 * 1024:
        value, unit = size / 1024, "КБ"
    else:
        value, unit = size / (1024 * 1024), "МБ"
    text = f"{value:.1f}".rstrip("0").rstrip(".") if value < 10 else f"{value:.0f}"
    return f"{text.replace('.', ',')} {unit}"


def check(uploads: list[Upload]) -> list[tuple[Upload, str]]:
    """Validate every file first, so a bad one refuses the whole action and nothing is written."""
    uploads = [u for u in uploads if u.filename or u.data]
    if len(uploads) > MAX_FILES:
        raise Invalid(f"Можно приложить не более {MAX_FILES} файлов.", "files")
    checked = []
    for upload in uploads:
        name = clean_name(upload.filename)
        if not upload.data:
            raise Invalid(f"Файл «{name}» пустой.", "files")
        if len(upload.data) > MAX_FILE_BYTES:
            raise Invalid(f"Файл «{name}» больше {MAX_FILE_BYTES // (1024 * 1024)} МБ.", "files")
        mime = _detect(upload.data)
        if mime not in ALLOWED_TYPES:
            raise Invalid(f"Файл «{name}»: содержимое не является документом допустимого типа "
                          f"({ALLOWED_HUMAN}).", "files")
        if mime in ZIP_TYPES and not unpacked_size_ok(upload.data):
            raise Invalid(f"Файл «{name}»: в распакованном виде документ занимает больше "
                          f"{MAX_UNPACKED_BYTES // (1024 * 1024)} МБ — такой файл принять нельзя. "
                          f"Сохраните документ заново или приложите его в PDF.", "files")
        checked.append((Upload(named_for_type(name, mime), upload.data), mime))
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


def download_name(filename: str | None, content_type: str) -> str:
    """The name a stored file is served under: cleaned again, so a row written before names were
    cleaned (a line break in it broke every download) is served too."""
    return named_for_type(filename, content_type)


def shown_name(attachment) -> str:
    """An attachment's name as pages show it: the name it downloads under (no «exe.pdf» from an old row)."""
    return download_name(attachment.filename, attachment.content_type)
