"""Attachments are judged by their content: images are re-encoded without their metadata, PDFs and
plain text are checked, everything else is refused, and the limits hold per file and per report."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.template.defaultfilters import filesizeformat
from PIL import Image, ImageCms
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from lapor.reports import attachments
from lapor.reports.attachments import MAX_NAME_LENGTH, clean_name, prepare_upload, prepare_uploads, sniff
from lapor.reports.choices import Action, Actor, Status, Visibility
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Attachment, Report, ReportEvent
from lapor.reports.services import (
    report_attach,
    report_confirm,
    report_dispatch,
    report_follow_up,
    report_forward,
    report_note,
)
from tests.images import large_png, record_decodes

SECRET = "Rahasia Pemilik Kamera"


# --- files made here --------------------------------------------------------------------------------


def _exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x013B] = SECRET  # Artist
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "S", 2: (6.0, 17.0, 30.0), 3: "E", 4: (106.0, 40.0, 10.0)}  # GPS
    return exif


XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>' + SECRET.encode() + b"</dc:creator>"
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def jpeg(size=(80, 40), color=(200, 30, 30), *, orientation=1, metadata=True) -> bytes:
    """A photo as phones make them: landscape pixels, an orientation tag, a name and a GPS position."""
    image = Image.new("RGB", size, color)
    # The left half is bright, so that a rotation can be seen in the pixels.
    image.paste((250, 250, 250), (0, 0, size[0] // 2, size[1]))
    output = io.BytesIO()
    if metadata:
        profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        image.save(output, "JPEG", exif=_exif(orientation), comment=SECRET.encode(), xmp=XMP, icc_profile=profile)
    else:
        image.save(output, "JPEG")
    return output.getvalue()


def png(size=(40, 30), *, alpha=True) -> bytes:
    from PIL import PngImagePlugin

    image = Image.new("RGBA" if alpha else "RGB", size, (10, 120, 200, 128) if alpha else (10, 120, 200))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", SECRET)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    output = io.BytesIO()
    image.save(output, "PNG", pnginfo=info, exif=_exif())
    return output.getvalue()


def webp(size=(40, 30)) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, (0, 160, 60)).save(output, "WEBP", exif=_exif(), xmp=XMP)
    return output.getvalue()


def pdf() -> bytes:
    """A minimal, well-formed one-page PDF with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    output = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(output))
        output += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(output)
    output += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        output += b"%010d 00000 n \n" % offset
    output += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(output)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny file whose header claims a huge picture: what a decompression bomb looks like."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def _reopen(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _stored_files(media) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()]


def _rejected(callable_, *args, **kwargs) -> ReportError:
    with pytest.raises(ReportError) as caught:
        callable_(*args, **kwargs)
    assert caught.value.code == ReportErrorCode.ATTACHMENT_REJECTED
    assert caught.value.field == "attachments"
    return caught.value


# --- images -----------------------------------------------------------------------------------------


def test_a_jpeg_loses_its_metadata_and_keeps_its_picture():
    prepared = prepare_upload(upload("foto.jpg", jpeg()))
    assert prepared.content_type == "image/jpeg"
    image = _reopen(prepared.content)
    assert image.format == "JPEG"
    assert image.size == (80, 40)
    assert len(image.getexif()) == 0
    assert "xmp" not in image.info
    assert "comment" not in image.info
    assert "icc_profile" not in image.info
    assert SECRET.encode() not in prepared.content
    assert b"PhoneMaker" not in prepared.content


def test_the_orientation_tag_is_applied_to_the_pixels():
    # Orientation 6: the camera was held upright; viewers turn the picture 90° clockwise.
    prepared = prepare_upload(upload("tegak.jpg", jpeg(orientation=6)))
    image = _reopen(prepared.content).convert("RGB")
    assert image.size == (40, 80)
    assert len(image.getexif()) == 0
    # The bright left half of the landscape pixels is now the top half.
    top, bottom = image.getpixel((20, 10)), image.getpixel((20, 70))
    assert isinstance(top, tuple)
    assert isinstance(bottom, tuple)
    assert min(top) > 200
    assert bottom[0] > 150 > bottom[1]


def test_a_png_keeps_its_transparency_and_loses_its_text_chunks():
    prepared = prepare_upload(upload("peta.png", png()))
    image = _reopen(prepared.content)
    assert image.format == "PNG"
    assert image.mode == "RGBA"
    assert image.getpixel((5, 5)) == (10, 120, 200, 128)
    assert not {"Author", "XML:com.adobe.xmp", "exif"} & set(image.info)
    assert SECRET.encode() not in prepared.content


def test_a_webp_loses_its_metadata():
    prepared = prepare_upload(upload("foto.webp", webp()))
    image = _reopen(prepared.content)
    assert image.format == "WEBP"
    assert prepared.content_type == "image/webp"
    assert len(image.getexif()) == 0
    assert SECRET.encode() not in prepared.content


def test_a_large_image_is_scaled_down(settings):
    settings.REPORT_ATTACHMENT_MAX_DIMENSION = 64
    prepared = prepare_upload(upload("besar.jpg", jpeg(size=(400, 200))))
    assert _reopen(prepared.content).size == (64, 32)


def test_whatever_follows_the_image_data_is_dropped():
    smuggled = jpeg() + b"PK\x03\x04" + b"<script>alert(1)</script>" * 10
    prepared = prepare_upload(upload("foto.jpg", smuggled))
    assert b"<script>" not in prepared.content
    assert b"PK\x03\x04" not in prepared.content


def test_an_image_with_too_many_pixels_is_refused(settings):
    settings.REPORT_ATTACHMENT_MAX_PIXELS = 1_000_000
    error = _rejected(prepare_upload, upload("bom.png", png_claiming(2000, 2000)))
    assert "1 megapixels" in str(error.message)


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    # 40,000 × 40,000 pixels would take 4.8 GB to decode; the file is a few dozen bytes.
    error = _rejected(prepare_upload, upload("bom.png", png_claiming(40_000, 40_000)))
    assert "pixels" in str(error.message)


def test_a_picture_over_the_pixel_budget_is_refused_before_it_is_decoded(monkeypatch):
    # 7000 × 7000 (49 megapixels) is over the default budget; the file is a few kilobytes.
    decoded = record_decodes(monkeypatch)
    error = _rejected(prepare_uploads, [upload("besar.png", large_png(7000, 7000))])
    assert "at most 40 megapixels" in str(error.message)
    assert decoded == []


def test_pictures_over_the_budget_of_one_upload_together_are_refused_before_any_is_decoded(settings, monkeypatch):
    settings.REPORT_ATTACHMENT_MAX_PIXELS = 1_000_000
    settings.REPORT_ATTACHMENT_MAX_BATCH_PIXELS = 2_000_000
    decoded = record_decodes(monkeypatch)
    # Each is under the budget of one picture; the three together are not.
    pictures = [upload(f"{number}.png", large_png(1000, 800)) for number in range(3)]
    error = _rejected(prepare_uploads, [upload("catatan.txt", b"isi"), *pictures])
    assert "at most 2 megapixels in all" in str(error.message)
    assert decoded == []

    assert len(prepare_uploads(pictures[:2])) == 2
    assert decoded == [(1000, 800), (1000, 800)]


def test_a_damaged_image_is_refused():
    error = _rejected(prepare_upload, upload("rusak.jpg", jpeg(metadata=False)[:200]))
    assert "could not be read as an image" in str(error.message)


# --- documents and text -----------------------------------------------------------------------------


def test_a_pdf_keeps_its_pages():
    prepared = prepare_upload(upload("surat.pdf", pdf()))
    assert prepared.content_type == "application/pdf"
    rewritten = PdfReader(io.BytesIO(prepared.content))
    assert len(rewritten.pages) == 1
    assert rewritten.pages[0].mediabox.width == 200


def test_a_pdf_loses_the_metadata_that_names_its_author():
    writer = PdfWriter()
    writer.add_blank_page(300, 400)
    writer.add_blank_page(300, 400)
    writer.add_metadata({"/Author": "Siti Sentinel Rahayu", "/Creator": "Kantor Siti Sentinel"})
    original = io.BytesIO()
    writer.write(original)
    assert b"Sentinel" in original.getvalue()

    prepared = prepare_upload(upload("kronologi.pdf", original.getvalue()))

    assert b"Sentinel" not in prepared.content
    rewritten = PdfReader(io.BytesIO(prepared.content))
    assert rewritten.metadata is None
    assert len(rewritten.pages) == 2


SCRIPT_SENTINEL = "LAPORSCRIPTSENTINEL"
ACTION_TYPES = {
    "/GoTo", "/GoToR", "/GoToE", "/GoToDp", "/Launch", "/Thread", "/URI", "/Sound", "/Movie", "/Hide", "/Named",
    "/SubmitForm", "/ResetForm", "/ImportData", "/JavaScript", "/SetOCGState", "/Rendition", "/Trans",
    "/GoTo3DView", "/RichMediaExecute",
}  # fmt: skip
ACTIVE_KEYS = {"/JS", "/JavaScript", "/AA", "/OpenAction", "/A", "/AcroForm", "/XFA", "/EmbeddedFiles", "/EF"}
ACTIVE_ANNOTATIONS = {"/FileAttachment", "/Movie", "/Sound", "/Screen", "/RichMedia", "/3D"}


def _name(value: str) -> NameObject:
    return NameObject(value)


def _dictionary(**entries) -> DictionaryObject:
    return DictionaryObject({NameObject(f"/{key}"): value for key, value in entries.items()})


def _script(where: str) -> DictionaryObject:
    return _dictionary(S=_name("/JavaScript"), JS=TextStringObject(f"app.alert('{SCRIPT_SENTINEL} {where}');"))


def armed_pdf() -> bytes:
    """Two pages with a script or an action in every place a PDF reader runs one."""
    writer = PdfWriter()
    first = writer.add_blank_page(300, 400)
    second = writer.add_blank_page(300, 400)
    content = DecodedStreamObject()
    content.set_data(b"BT /F1 12 Tf 20 350 Td (Isi laporan) Tj ET")
    first[_name("/Contents")] = writer._add_object(content)
    root = writer._root_object
    # The document: open action, document actions, the document-level script name tree, bookmarks.
    root[_name("/OpenAction")] = writer._add_object(_script("open"))
    root[_name("/AA")] = _dictionary(WC=_script("will close"), WS=_script("will save"), DP=_script("did print"))
    script_stream = DecodedStreamObject()
    script_stream.set_data(f"app.alert('{SCRIPT_SENTINEL} stream');".encode())
    stream_action = _dictionary(S=_name("/JavaScript"), JS=writer._add_object(script_stream))
    root[_name("/Names")] = _dictionary(
        JavaScript=_dictionary(Names=ArrayObject([TextStringObject("init"), writer._add_object(stream_action)]))
    )
    outline_root = _dictionary(Type=_name("/Outlines"), Count=NumberObject(1))
    outlines = writer._add_object(outline_root)
    bookmark = writer._add_object(_dictionary(Title=TextStringObject("Bab 1"), Parent=outlines, A=_script("bookmark")))
    outline_root.update({_name("/First"): bookmark, _name("/Last"): bookmark})
    root[_name("/Outlines")] = outlines
    # The first page: its own actions.
    first[_name("/AA")] = _dictionary(O=_script("page open"), C=_script("page close"))
    rect = ArrayObject([NumberObject(10), NumberObject(10), NumberObject(90), NumberObject(30)])

    def link(action: DictionaryObject) -> IndirectObject:
        return writer._add_object(_dictionary(Type=_name("/Annot"), Subtype=_name("/Link"), Rect=rect, A=action))

    chained = _dictionary(S=_name("/GoTo"), D=ArrayObject([second.indirect_reference, _name("/Fit")]))
    chained[_name("/Next")] = _script("next in chain")
    annotations = [
        link(_script("link")),
        link(_dictionary(S=_name("/URI"), URI=TextStringObject("https://penipu.example/"))),
        link(_dictionary(S=_name("/Launch"), F=TextStringObject("cmd.exe"))),
        link(_dictionary(S=_name("/SubmitForm"), F=TextStringObject("https://penipu.example/kirim"))),
        link(_dictionary(S=_name("/ImportData"), F=TextStringObject("data.fdf"))),
        link(chained),
        # An internal link to a page: no action, harmless, kept.
        writer._add_object(
            _dictionary(
                Type=_name("/Annot"),
                Subtype=_name("/Link"),
                Rect=rect,
                Dest=ArrayObject([second.indirect_reference, _name("/Fit")]),
            )
        ),
        # An action reachable through a key no reader uses is not kept either.
        writer._add_object(
            _dictionary(
                Type=_name("/Annot"),
                Subtype=_name("/Text"),
                Rect=rect,
                Contents=TextStringObject("Catatan"),
                Private=_dictionary(S=_name("/Launch"), F=TextStringObject("setup.exe")),
            )
        ),
        writer._add_object(_dictionary(Type=_name("/Annot"), Subtype=_name("/Screen"), Rect=rect, A=_script("screen"))),
    ]
    # A form: a field with calculation, format and keystroke scripts; its widget with its own.
    field_dictionary = _dictionary(
        FT=_name("/Tx"),
        T=TextStringObject("nama"),
        AA=_dictionary(K=_script("keystroke"), F=_script("format"), V=_script("validate"), C=_script("calc")),
    )
    field = writer._add_object(field_dictionary)
    widget = writer._add_object(
        _dictionary(
            Type=_name("/Annot"),
            Subtype=_name("/Widget"),
            Rect=rect,
            Parent=field,
            A=_script("widget click"),
            AA=_dictionary(E=_script("enter"), X=_script("exit"), Fo=_script("focus")),
        )
    )
    field_dictionary[_name("/Kids")] = ArrayObject([widget])
    annotations.append(widget)
    root[_name("/AcroForm")] = _dictionary(Fields=ArrayObject([field]))
    # Embedded files: in the document's name tree and in an annotation on the page.
    writer.add_attachment("setup.exe", b"MZ" + SCRIPT_SENTINEL.encode())
    embedded = DecodedStreamObject()
    embedded.set_data(b"MZ" + SCRIPT_SENTINEL.encode())
    annotations.append(
        writer._add_object(
            _dictionary(
                Type=_name("/Annot"),
                Subtype=_name("/FileAttachment"),
                Rect=rect,
                FS=_dictionary(
                    Type=_name("/Filespec"),
                    F=TextStringObject("bukti.exe"),
                    EF=_dictionary(F=writer._add_object(embedded)),
                ),
            )
        )
    )
    first[_name("/Annots")] = ArrayObject(annotations)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _active_parts(content: bytes) -> list[str]:
    """What is left, in every object of the document, that a reader could run or open."""
    reader = PdfReader(io.BytesIO(content))
    found: list[str] = []
    size = reader.trailer["/Size"]
    assert isinstance(size, int)
    pending = [reader.get_object(number) for number in range(1, size)]
    pending.append(reader.trailer)
    while pending:
        item = pending.pop()
        if isinstance(item, DictionaryObject):
            found += [f"key {key}" for key in item if key in ACTIVE_KEYS]
            for key, kind in (("/S", ACTION_TYPES), ("/Subtype", ACTIVE_ANNOTATIONS)):
                if isinstance(item.get(key), str) and item.get(key) in kind:
                    found.append(f"{key} {item.get(key)}")
            pending += [value for value in item.values() if not isinstance(value, IndirectObject)]
        elif isinstance(item, ArrayObject):
            pending += [value for value in item if not isinstance(value, IndirectObject)]
    return found


def test_every_action_and_script_of_a_pdf_is_removed():
    original = armed_pdf()
    # The document really carries them, in each place.
    assert len(_active_parts(original)) > 30
    assert original.count(SCRIPT_SENTINEL.encode()) > 20

    prepared = prepare_upload(upload("formulir.pdf", original))

    assert _active_parts(prepared.content) == []
    assert SCRIPT_SENTINEL.encode() not in prepared.content
    rewritten = PdfReader(io.BytesIO(prepared.content))
    assert len(rewritten.pages) == 2
    contents = rewritten.pages[0].get_contents()
    assert contents is not None
    assert b"(Isi laporan) Tj" in contents.get_data()
    annotations = rewritten.pages[0]["/Annots"]
    assert isinstance(annotations, ArrayObject)
    kept = [annotation.get_object() for annotation in annotations]
    # The internal link, the note and the form widget (its appearance) stay, without their actions.
    assert sorted(annotation["/Subtype"] for annotation in kept if "/Subtype" in annotation) == [
        "/Link",
        "/Link",
        "/Link",
        "/Link",
        "/Link",
        "/Link",
        "/Link",
        "/Text",
        "/Widget",
    ]
    assert any("/Dest" in annotation for annotation in kept)


def test_a_pdf_whose_dictionaries_use_action_keys_for_other_things_is_kept():
    # A measurement dictionary's /S and /A hold number formats (arrays), not actions.
    writer = PdfWriter()
    page = writer.add_blank_page(200, 200)
    number_format = _dictionary(U=TextStringObject("m"), C=NumberObject(1))
    measure = _dictionary(Type=_name("/Measure"), S=ArrayObject([number_format]), A=ArrayObject([number_format]))
    page[_name("/VP")] = ArrayObject([_dictionary(Type=_name("/Viewport"), Measure=measure)])
    original = io.BytesIO()
    writer.write(original)

    prepared = prepare_upload(upload("denah.pdf", original.getvalue()))

    rewritten = PdfReader(io.BytesIO(prepared.content))
    viewports = rewritten.pages[0]["/VP"]
    assert isinstance(viewports, ArrayObject)
    assert viewports[0].get_object()["/Measure"]["/A"][0]["/U"] == "m"


def test_a_password_protected_pdf_is_refused_with_the_reason():
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.encrypt("rahasia")
    locked = io.BytesIO()
    writer.write(locked)
    with pytest.raises(ReportError) as refused:
        prepare_upload(upload("terkunci.pdf", locked.getvalue()))
    assert refused.value.code == ReportErrorCode.ATTACHMENT_REJECTED
    assert "password" in str(refused.value.message)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(pdf()[:-30], id="cut off before the trailer"),
        pytest.param(b"%PDF-1.4\nhello", id="only a header"),
        pytest.param(pdf().replace(b"startxref\n", b"startxref\n9999999"), id="trailer points outside"),
    ],
)
def test_a_broken_pdf_is_refused(content):
    error = _rejected(prepare_upload, upload("surat.pdf", content))
    assert "not a complete PDF" in str(error.message)


def test_plain_text_is_accepted():
    prepared = prepare_upload(upload("kronologi.txt", b"Kronologi: pukul 08.00 loket tutup.\n"))
    assert prepared.content_type == "text/plain"
    assert prepared.original_name == "kronologi.txt"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("halaman.html", b"<!DOCTYPE html><html><body>Hai</body></html>"),
        ("catatan.txt", b"Catatan\n<script>fetch('/x')</script>"),
        ("gambar.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("gambar.txt", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'),
        ("tanpa-nama", b"  <svg onload=alert(1)>"),
    ],
)
def test_web_pages_and_svg_are_refused(name, content):
    error = _rejected(prepare_upload, upload(name, content, "text/plain"))
    message = str(error.message)
    assert "can carry scripts" in message or "Accepted: JPEG, PNG and WebP" in message


# --- refused by content, whatever the name ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param("foto.jpg", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, id="a program named .jpg"),
        pytest.param("foto.jpg", b"\x7fELF\x02\x01\x01" + b"\x00" * 200, id="an ELF named .jpg"),
        pytest.param("arsip.zip", b"PK\x03\x04" + b"\x00" * 200, id="zip"),
        pytest.param("foto.heic", b"\x00\x00\x00\x18ftypheic" + b"\x00" * 200, id="heic"),
        pytest.param("gambar.gif", b"GIF89a" + b"\x00" * 200, id="gif"),
        pytest.param("dokumen.docx", b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 200, id="word"),
        pytest.param("teks.txt", "Halo".encode("utf-16"), id="utf-16 text"),
    ],
)
def test_other_kinds_of_file_are_refused_with_the_accepted_kinds(name, content):
    error = _rejected(prepare_upload, upload(name, content, "image/jpeg"))
    assert "Accepted: JPEG, PNG and WebP images, PDF documents and plain text files." in str(error.message)


def test_a_pdf_named_as_a_photo_is_refused():
    error = _rejected(prepare_upload, upload("foto.jpg", pdf(), "image/jpeg"))
    assert "contains a PDF document; rename it to end in .pdf" in str(error.message)


def test_a_valid_image_named_as_a_program_is_refused():
    _rejected(prepare_upload, upload("foto.exe", jpeg()))
    _rejected(prepare_upload, upload("foto.svg", png()))


def test_a_photo_saved_with_another_image_extension_gets_the_right_one():
    prepared = prepare_upload(upload("IMG_0001.jpeg", png(alpha=False)))
    assert prepared.content_type == "image/png"
    assert prepared.original_name == "IMG_0001.png"


def test_an_empty_file_is_refused():
    error = _rejected(prepare_upload, upload("kosong.txt", b""))
    assert "empty" in str(error.message)


def test_sniffing_reads_bytes_not_names():
    assert sniff(jpeg()) == attachments.FileKind.JPEG
    assert sniff(png()) == attachments.FileKind.PNG
    assert sniff(webp()) == attachments.FileKind.WEBP
    assert sniff(pdf()) == attachments.FileKind.PDF
    assert sniff(b"MZ\x90\x00") is None


# --- names ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\Rina\\Desktop\\bukti.jpg", "bukti.jpg"),
        ("foto\u202egpj.exe", "foto gpj.exe"),
        ("a\x00b\nc.txt", "a b c.txt"),
        ('bukti<script>"x".txt', "bukti_script_x_.txt"),
        ("...", "lampiran"),
        ("", "lampiran"),
        ("Foto 12.03.2024", "Foto 12.03.2024"),
    ],
)
def test_names_are_cleaned_for_display(raw, cleaned):
    assert clean_name(raw) == cleaned


def test_a_long_name_is_cut_and_keeps_its_extension():
    prepared = prepare_upload(upload("a" * 500 + ".txt", b"isi"))
    assert len(prepared.original_name) == MAX_NAME_LENGTH
    assert prepared.original_name.endswith(".txt")


def test_a_name_without_an_extension_gets_one():
    assert prepare_upload(upload("Foto 12.03.2024", jpeg())).original_name == "Foto 12.03.2024.jpg"


# --- limits -----------------------------------------------------------------------------------------


def test_a_file_over_the_per_file_limit_is_refused_saying_the_limit(settings):
    settings.REPORT_ATTACHMENT_MAX_FILE_BYTES = 2048
    error = _rejected(prepare_upload, upload("panjang.txt", b"a" * 2049))
    assert filesizeformat(2048) in str(error.message)
    assert error.context["limit"] == 2048


def test_the_per_file_limit_defaults_to_the_report_total(settings):
    settings.REPORT_ATTACHMENT_MAX_BYTES = 3000
    _rejected(prepare_upload, upload("panjang.txt", b"a" * 3001))
    assert prepare_upload(upload("pas.txt", b"a" * 3000)).size == 3000


def test_the_default_total_is_ten_megabytes():
    assert attachments.attachment_limits().total_bytes == 10 * 1024 * 1024


def test_files_together_over_the_total_are_refused_saying_the_limit(settings):
    settings.REPORT_ATTACHMENT_MAX_BYTES = 5000
    error = _rejected(prepare_uploads, [upload("a.txt", b"a" * 3000), upload("b.txt", b"b" * 3000)])
    assert filesizeformat(5000) in str(error.message)


def test_too_many_files_are_refused(settings):
    settings.REPORT_ATTACHMENT_MAX_COUNT = 2
    error = _rejected(prepare_uploads, [upload(f"{n}.txt", b"isi") for n in range(3)])
    assert "at most 2 files" in str(error.message)


def test_no_file_is_refused():
    _rejected(prepare_uploads, [])


# --- the service ------------------------------------------------------------------------------------


def _published(world) -> Report:
    report = world.submit()
    report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report
    return report_forward(user=world.coordinator, report=report, units=[world.transport]).report


def test_files_sent_with_a_report_join_its_submission(world, media):
    filed = world.file(files=[upload("bukti.jpg", jpeg()), upload("surat.pdf", pdf())])
    report, stored = filed.report, filed.attachments
    submission = ReportEvent.objects.get(report=report)
    assert filed.event == submission
    assert [item.event_id for item in stored] == [submission.pk, submission.pk]
    rows = list(Attachment.objects.filter(report=report).order_by("pk"))
    assert rows == list(stored)
    assert [row.original_name for row in rows] == ["bukti.jpg", "surat.pdf"]
    assert [row.visibility for row in rows] == [Visibility.REPORTER, Visibility.REPORTER]
    for row in rows:
        with row.file.open("rb") as file:
            content = file.read()
        assert row.size == len(content)
        assert row.sha256 == hashlib.sha256(content).hexdigest()
        # Stored under a random name: never the user's.
        stored_name = row.file.name or ""
        assert "bukti" not in stored_name
        assert "surat" not in stored_name
        assert stored_name.startswith("attachments/")
    assert len(_stored_files(media)) == 2


def test_a_guest_sends_files_with_their_report(world, media):
    filed = world.file(reporter=None, guest_email="tamu@example.id", files=[upload("bukti.png", png())])
    assert Attachment.objects.filter(report=filed.report, event=filed.event).count() == 1


def test_a_retried_filing_stores_its_files_once(world, media):
    first = world.file(idempotency_key="sekali-saja", files=[upload("bukti.png", png())])
    again = world.file(idempotency_key="sekali-saja", files=[upload("bukti.png", png())])
    assert (again.repeated, again.report.pk, again.event.pk, again.secret) == (
        True,
        first.report.pk,
        first.event.pk,
        "",
    )
    assert [item.pk for item in again.attachments] == [item.pk for item in first.attachments]
    assert Attachment.objects.count() == 1
    assert len(_stored_files(media)) == 1


def test_nobody_without_an_account_adds_files_after_filing(world, media):
    guest_report = world.submit(reporter=None, guest_email="tamu@example.id")
    for someone in (world.member_of_public, None):
        with pytest.raises(ReportError) as refused:
            report_attach(user=someone, report=guest_report, files=[upload("a.txt", b"isi")])
        assert refused.value.code == ReportErrorCode.ACTION_NOT_ALLOWED
    assert not Attachment.objects.exists()
    assert _stored_files(media) == []


def test_one_bad_file_files_nothing(world, media):
    with pytest.raises(ReportError) as refused:
        world.file(files=[upload("bukti.jpg", jpeg()), upload("virus.jpg", b"MZ\x90\x00" + b"\x00" * 100)])
    assert "virus.jpg" in str(refused.value.message)
    assert refused.value.field == "attachments"
    assert not Report.objects.exists()
    assert not Attachment.objects.exists()
    assert _stored_files(media) == []


def test_a_database_failure_removes_the_report_and_the_files_already_stored(world, media, monkeypatch):
    def fail(*args, **kwargs):
        raise DatabaseError("disk full")

    # The failure is injected; what is tested is that the files written before it are removed, and
    # the report with them.
    monkeypatch.setattr(Attachment.objects, "bulk_create", fail)
    with pytest.raises(DatabaseError):
        world.file(files=[upload("a.jpg", jpeg()), upload("b.pdf", pdf())])
    assert _stored_files(media) == []
    assert not Report.objects.exists()


def test_a_database_failure_after_a_follow_up_removes_its_files(world, media, monkeypatch):
    report = _published(world)

    def fail(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(Attachment.objects, "bulk_create", fail)
    with pytest.raises(DatabaseError):
        report_follow_up(user=world.officer, report=report, message="Foto terlampir.", files=[upload("a.jpg", jpeg())])
    assert _stored_files(media) == []
    assert not ReportEvent.objects.filter(report=report, action=Action.FOLLOW_UP).exists()


def test_a_follow_up_stores_its_files_with_it(world, media):
    report = _published(world)
    done = report_follow_up(
        user=world.officer,
        report=report,
        message="Lampu sudah diganti, foto terlampir.",
        final=True,
        files=[upload("sesudah.jpg", jpeg())],
        file_visibility=Visibility.PUBLIC,
    )
    assert done.event.action == Action.FOLLOW_UP_FINAL
    assert [(item.event_id, item.visibility) for item in done.attachments] == [(done.event.pk, Visibility.PUBLIC)]
    assert done.report.status == Status.COMPLETED


def test_a_refused_file_refuses_the_follow_up(world, media):
    report = _published(world)
    with pytest.raises(ReportError) as refused:
        report_follow_up(
            user=world.officer, report=report, message="Foto terlampir.", files=[upload("x.exe", b"MZ\x90\x00")]
        )
    assert refused.value.field == "attachments"
    assert not ReportEvent.objects.filter(report=report, action=Action.FOLLOW_UP).exists()
    with pytest.raises(ReportError) as unknown:
        report_follow_up(
            user=world.officer, report=report, message="Foto.", files=[upload("a.txt", b"a")], file_visibility="semua"
        )
    assert (unknown.value.code, unknown.value.field) == (ReportErrorCode.INVALID, "visibility")
    assert _stored_files(media) == []


def test_the_report_total_counts_the_files_it_has(world, media, settings):
    settings.REPORT_ATTACHMENT_MAX_BYTES = 5000
    report = world.file(files=[upload("a.txt", b"a" * 3000)]).report
    error = _rejected(report_attach, user=world.reporter, report=report, files=[upload("b.txt", b"b" * 3000)])
    assert filesizeformat(2000) in str(error.message)  # what is left
    assert Attachment.objects.filter(report=report).count() == 1


def test_the_report_count_counts_the_files_it_has(world, media, settings):
    settings.REPORT_ATTACHMENT_MAX_COUNT = 2
    report = world.file(files=[upload("a.txt", b"a")]).report
    report_attach(user=world.reporter, report=report, files=[upload("b.txt", b"b")])
    error = _rejected(report_attach, user=world.reporter, report=report, files=[upload("c.txt", b"c")])
    assert "has 2 already" in str(error.message)


def test_the_reporter_adds_files_while_the_report_is_open(world, media):
    report = _published(world)
    stored = report_attach(
        user=world.reporter, report=report, files=[upload("susulan.jpg", jpeg())], visibility=Visibility.PUBLIC
    ).attachments
    assert stored[0].visibility == Visibility.PUBLIC
    with pytest.raises(ReportError) as refused:
        report_attach(user=world.reporter, report=report, files=[upload("x.txt", b"x")], visibility=Visibility.STAFF)
    assert refused.value.code == ReportErrorCode.INVALID


def test_the_reporter_cannot_add_files_to_a_closed_report(world, media):
    report = _published(world)
    report = report_follow_up(user=world.officer, report=report, message="Selesai.", final=True).report
    report = report_confirm(user=world.reporter, report=report).report
    with pytest.raises(ReportError) as refused:
        report_attach(user=world.reporter, report=report, files=[upload("x.txt", b"x")])
    assert refused.value.code == ReportErrorCode.ACTION_NOT_ALLOWED


@pytest.mark.parametrize("someone", ["member_of_public", "environment_officer", "outsider"])
def test_people_who_do_not_handle_a_report_cannot_add_files(world, media, someone):
    report = _published(world)
    with pytest.raises(ReportError) as refused:
        report_attach(user=getattr(world, someone), report=report, files=[upload("x.txt", b"x")])
    assert refused.value.code == ReportErrorCode.ACTION_NOT_ALLOWED
    assert _stored_files(media) == []


def test_staff_files_are_recorded_in_the_trail(world, media):
    report = _published(world)
    stored = report_attach(
        user=world.officer, report=report, files=[upload("cctv.jpg", jpeg())], visibility=Visibility.STAFF
    ).attachments
    assert stored[0].event_id is not None
    event = ReportEvent.objects.get(pk=stored[0].event_id)
    assert event.action == Action.NOTE
    assert event.actor_role == Actor.UNIT_OFFICER
    assert event.visibility == Visibility.STAFF
    assert event.details["attachments"] == [
        {"sha256": stored[0].sha256, "size": stored[0].size, "content_type": "image/jpeg"}
    ]


def test_files_join_an_entry_their_author_wrote(world, media):
    report = _published(world)
    note = report_note(user=world.officer, report=report, message="Foto lokasi terlampir.").event
    stored = report_attach(
        user=world.officer, report=report, files=[upload("lokasi.png", png())], event=note
    ).attachments
    assert stored[0].event_id == note.pk
    assert ReportEvent.objects.filter(report=report, action=Action.NOTE).count() == 1
    with pytest.raises(ReportError) as refused:
        report_attach(user=world.coordinator, report=report, files=[upload("x.txt", b"x")], event=note)
    assert refused.value.code == ReportErrorCode.INVALID_TARGET


def test_an_unknown_visibility_is_refused(world, media):
    report = world.submit()
    with pytest.raises(ReportError) as refused:
        report_attach(
            user=world.reporter,
            report=report,
            files=[upload("x.txt", b"x")],
            visibility="everyone",
        )
    assert refused.value.code == ReportErrorCode.INVALID
