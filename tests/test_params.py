"""Request values parsed with bounds (pos/params.py) and file names made safe (pos/services/files.py)."""
import io
import zipfile
from datetime import date, datetime, timezone

import pytest
from werkzeug.datastructures import MultiDict

from pos import params
from pos.services import files
from pos.services.inbox import decode_cursor, encode_cursor
from pos.workflow import Invalid


@pytest.mark.parametrize("value, expected", [("1", 1), (" 42 ", 42), (7, 7), ("", None), (None, None),
                                             (str(params.MAX_ID), params.MAX_ID)])
def test_ids_within_bounds(value, expected):
    assert params.parse_id(value) == expected


@pytest.mark.parametrize("value", ["9223372036854775808", str(2**64), str(params.MAX_ID + 1), "0", "-1", "1e30",
                                   "Infinity", "NaN", "١٢", "1_000", "+5", "0x10", True, 1.5, 2**70, [1]])
def test_ids_out_of_shape_or_range_are_refused_in_russian(value):
    with pytest.raises(params.BadValue, match="Неверное значение поля «Организация»"):
        params.parse_id(value, "Организация")
    assert params.id_or_none(value) is None


@pytest.mark.parametrize("value, expected", [("3", 3), (None, 1), ("0", 1), ("x", 1), ("9223372036854775808", 1),
                                             ("99999999", params.MAX_PAGE)])
def test_pages(value, expected):
    assert params.parse_page(value) == expected


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "1999-12-31", "2101-01-01"])
def test_dates_out_of_range_are_refused_in_russian(value):
    with pytest.raises(params.BadValue, match="должна быть в пределах 01.01.2000–31.12.2100"):
        params.parse_date(value, "Поступило по")


def test_dates_within_range_and_bad_shapes():
    assert params.parse_date("2026-12-01") == date(2026, 12, 1)
    for bad in ("2026-13-01", "завтра", "2026-1-1", "20261201"):
        with pytest.raises(params.BadValue, match="ГГГГ-ММ-ДД"):
            params.parse_date(bad)


def test_moments_are_aware_and_bounded():
    assert params.parse_moment("2026-12-01T10:00:00+09:00") == datetime(2026, 12, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(params.BadValue, match="без часового пояса"):
        params.parse_moment("2026-12-01T10:00:00")
    with pytest.raises(params.BadValue, match="2000–2100"):
        params.parse_moment("9999-12-31T23:59:59+00:00")


def test_unstorable_characters_are_stripped_from_query_strings_forms_and_json():
    cleaned = params.StorableMultiDict(MultiDict([("q\x00", "a\x00b\ud800c"), ("q\x00", "d")]))
    assert cleaned.getlist("q") == ["abc", "d"]
    assert params.storable_data({"k\udfff": ["\ud800x", 1, None, {"n": "\x00"}]}) == {"k": ["x", 1, None, {"n": ""}]}


class _Message:
    def __init__(self, stage="moderation", due=datetime(2026, 12, 1, tzinfo=timezone.utc), id=5):
        self.stage, self.stage_due_at, self.id = stage, due, id


def _cursor(raw: str) -> str:
    import base64
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def test_a_cursor_round_trips():
    assert decode_cursor(encode_cursor(_Message())) == (0, datetime(2026, 12, 1, tzinfo=timezone.utc), 5)


@pytest.mark.parametrize("raw", [
    '[0, "2026-01-01T00:00:00", 1]',  # naive
    '[0, "2026-01-01T00:00:00+00:00", Infinity]', '[0, "2026-01-01T00:00:00+00:00", 1e30]',
    '[0, "2026-01-01T00:00:00+00:00", 9223372036854775808]', '[0, "2026-01-01T00:00:00+00:00", true]',
    '[NaN, "2026-01-01T00:00:00+00:00", 1]', '[7, "2026-01-01T00:00:00+00:00", 1]',
    '[0, "9999-12-31T23:59:59+00:00", 1]', '[0, 5, 1]', '[0, "x", 1]', '{"a": 1}', '[[[[[]]]]]', 'null',
])
def test_a_tampered_cursor_means_the_first_page(raw):
    assert decode_cursor(_cursor(raw)) is None


# --- file names and sizes ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("акт\r\nX-Evil: 1.pdf", "актX-Evil: 1.pdf"),
    ("\u202efdp.exe", "fdp.exe"), ("a\u2066b\u2069\u200e\u200f.pdf", "ab.pdf"), ("C:\\Users\\x\\скан.pdf", "скан.pdf"),
    ("../../etc/passwd", "passwd"), ("", "файл"), ("\x00\x1f", "файл"), ("я" * 300 + ".pdf", "я" * 196 + ".pdf"),
])
def test_names_lose_control_and_bidirectional_characters(name, expected):
    assert files.clean_name(name) == expected


@pytest.mark.parametrize("name, mime, expected", [
    ("фото.pdf", "image/png", "фото.png"), ("скан.JPEG", "image/jpeg", "скан.JPEG"), ("скан", "image/jpeg", "скан.jpg"),
    ("акт.pdf", "application/pdf", "акт.pdf"), ("exe.\u202efdp", "application/pdf", "exe.pdf"),
])
def test_the_extension_follows_the_content(name, mime, expected):
    assert files.named_for_type(name, mime) == expected
    assert files.download_name(name, mime) == expected


@pytest.mark.parametrize("size, text", [(0, "0 байт"), (1, "1 байт"), (3, "3 байта"), (512, "512 байт"),
                                        (1023, "1023 байта"), (1024, "1 КБ"), (1536, "1,5 КБ"), (204 * 1024, "204 КБ"),
                                        (int(2.3 * 1024 * 1024), "2,3 МБ")])
def test_sizes_in_words(size, text):
    assert files.human_size(size) == text


def _docx(declared_bytes: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"<w:document/>" + b" " * max(declared_bytes - 13, 0))
    return buffer.getvalue()


def test_an_office_file_that_unpacks_to_an_absurd_size_is_refused():
    bomb = _docx(files.MAX_UNPACKED_BYTES + 1)
    assert len(bomb) < 1024 * 1024  # small as sent
    with pytest.raises(Invalid, match="в распакованном виде документ занимает больше 100 МБ"):
        files.check([files.Upload("отчёт.docx", bomb)])
    ((upload, mime),) = files.check([files.Upload("отчёт.docx", _docx(10_000))])
    assert mime.endswith("wordprocessingml.document") and upload.filename == "отчёт.docx"


def test_a_png_named_pdf_is_kept_as_png():
    from tests.applicant_app import png_bytes
    ((upload, mime),) = files.check([files.Upload("справка.pdf", png_bytes())])
    assert (upload.filename, mime) == ("справка.png", "image/png")
