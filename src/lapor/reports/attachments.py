"""Attachments: files judged by what they contain, never by their name or the type a browser claims.

Accepted: JPEG, PNG and WebP images, PDF documents and plain UTF-8 text. Images are decoded and
drawn again into a new image, so that nothing of the original file survives but its pixels: EXIF
(with the GPS position of the phone that took it), XMP, IPTC, comments, colour profiles (converted to
sRGB first) and anything appended after the image data (a JPEG with a ZIP or a script behind it) are
gone, the EXIF orientation is applied to the pixels, and the size is capped. PDFs are written again
page by page after a structural check, without their document information (Author, Creator...) and
XMP metadata, which can name an anonymous reporter, and without any action, script, form or embedded
file a reader could run or open; nothing in them is run here, and faces serve every attachment as a
download (Content-Disposition: attachment, X-Content-Type-Options: nosniff). Web pages and SVG are
refused because a browser would run the scripts they can carry.

Files are stored under a random name; the user's file name is kept, cleaned, for display only.

Limits (settings, with the defaults used when a setting is absent):
- REPORT_ATTACHMENT_MAX_BYTES: all the files of one report together (10 MB);
- REPORT_ATTACHMENT_MAX_FILE_BYTES: one file, as uploaded and as stored (the total);
- REPORT_ATTACHMENT_MAX_COUNT: files per report (10);
- REPORT_ATTACHMENT_MAX_PIXELS: pixels an image may decode to (40 million; a JPEG counts at the reduced
  scale it is decoded at), the guard against decompression bombs, read from the header before decoding;
- REPORT_ATTACHMENT_MAX_BATCH_PIXELS: pixels all the images of one upload may decode to together (120
  million, ten phone photos), so that the decoding work of one request is bounded too;
- REPORT_ATTACHMENT_MAX_DIMENSION: the longest side of a stored image (4096 px).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import secrets
import struct
import unicodedata
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Attachment

FIELD = "attachments"
DEFAULT_MAX_COUNT = 10
DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_BATCH_PIXELS = 120_000_000
DEFAULT_MAX_DIMENSION = 4096
JPEG_QUALITY = 85
WEBP_QUALITY = 85
# Shown when a file has no usable name.
FALLBACK_NAME = "lampiran"
MAX_NAME_LENGTH = 200
_MAX_EXTENSION_LENGTH = 10
# A PDF ends with "startxref <offset> %%EOF" within its last bytes (writers may add a little padding).
_PDF_TAIL_BYTES = 2048
_PDF_HEADER = re.compile(rb"%PDF-[12]\.[0-9]")
_PDF_STARTXREF = re.compile(rb"startxref\s+([0-9]+)\s+%%EOF")


class FileKind(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    PDF = "pdf"
    TEXT = "text"


IMAGE_KINDS = frozenset({FileKind.JPEG, FileKind.PNG, FileKind.WEBP})
CONTENT_TYPES = {
    FileKind.JPEG: "image/jpeg",
    FileKind.PNG: "image/png",
    FileKind.WEBP: "image/webp",
    FileKind.PDF: "application/pdf",
    FileKind.TEXT: "text/plain",
}
EXTENSIONS = {
    FileKind.JPEG: "jpg",
    FileKind.PNG: "png",
    FileKind.WEBP: "webp",
    FileKind.PDF: "pdf",
    FileKind.TEXT: "txt",
}
KIND_LABELS = {
    FileKind.JPEG: _("a JPEG image"),
    FileKind.PNG: _("a PNG image"),
    FileKind.WEBP: _("a WebP image"),
    FileKind.PDF: _("a PDF document"),
    FileKind.TEXT: _("a plain text file"),
}
_PILLOW_FORMATS = {FileKind.JPEG: "JPEG", FileKind.PNG: "PNG", FileKind.WEBP: "WEBP"}
# Extensions by family. A name that claims one family while the content is of another ("bukti.jpg"
# holding a PDF or a program) is refused: it is at best a mistake and at worst a disguise.
_IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "jpe", "jfif", "png", "webp"})
_FAMILY_EXTENSIONS = {
    FileKind.JPEG: _IMAGE_EXTENSIONS,
    FileKind.PNG: _IMAGE_EXTENSIONS,
    FileKind.WEBP: _IMAGE_EXTENSIONS,
    FileKind.PDF: frozenset({"pdf"}),
    FileKind.TEXT: frozenset({"txt", "text", "log", "csv", "md"}),
}
_KNOWN_EXTENSIONS = frozenset().union(*_FAMILY_EXTENSIONS.values())
# Names that ask to be opened by a browser or run; refused whatever they contain.
_ACTIVE_EXTENSIONS = frozenset(
    {
        "htm", "html", "xhtml", "shtml", "mht", "mhtml", "svg", "svgz", "xml", "xsl", "js", "mjs", "hta",
        "exe", "com", "bat", "cmd", "scr", "pif", "msi", "dll", "ps1", "vbs", "vbe", "wsf", "jar", "apk",
        "sh", "php", "phtml", "py", "swf",
    }
)  # fmt: skip
# What browsers sniff as a web page (WHATWG MIME sniffing), plus SVG and XML: refused in "text" files.
_MARKUP = re.compile(
    rb"<\s*(?:!doctype|html|head|body|script|iframe|svg|object|embed|style|title|meta|link|img|a\s|div|table"
    rb"|font|br|p[\s>]|b[\s>]|h1|!--|\?xml|math|xsl)",
    re.IGNORECASE,
)
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_NAME_FORBIDDEN = re.compile(r'[<>:"/\\|?*`$]+')


@dataclasses.dataclass(frozen=True)
class AttachmentLimits:
    total_bytes: int
    file_bytes: int
    count: int
    pixels: int
    batch_pixels: int
    dimension: int


def attachment_limits() -> AttachmentLimits:
    total = int(settings.REPORT_ATTACHMENT_MAX_BYTES)
    return AttachmentLimits(
        total_bytes=total,
        file_bytes=int(getattr(settings, "REPORT_ATTACHMENT_MAX_FILE_BYTES", total)),
        count=int(getattr(settings, "REPORT_ATTACHMENT_MAX_COUNT", DEFAULT_MAX_COUNT)),
        pixels=int(getattr(settings, "REPORT_ATTACHMENT_MAX_PIXELS", DEFAULT_MAX_PIXELS)),
        batch_pixels=int(getattr(settings, "REPORT_ATTACHMENT_MAX_BATCH_PIXELS", DEFAULT_MAX_BATCH_PIXELS)),
        dimension=int(getattr(settings, "REPORT_ATTACHMENT_MAX_DIMENSION", DEFAULT_MAX_DIMENSION)),
    )


@dataclasses.dataclass(frozen=True)
class PreparedFile:
    """A checked (and, for an image, re-encoded) file, ready to be stored; not yet stored."""

    content: bytes
    kind: FileKind
    original_name: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.kind]


def _rejected(message: str | Promise, **context: Any) -> ReportError:
    return ReportError(ReportErrorCode.ATTACHMENT_REJECTED, message, field=FIELD, **context)


def _not_accepted(name: str) -> ReportError:
    return _rejected(
        _(
            "“%(name)s” is not a file we accept. Accepted: JPEG, PNG and WebP images, PDF documents "
            "and plain text files."
        )
        % {"name": name},
        name=name,
    )


def _too_big(name: str, limits: AttachmentLimits) -> ReportError:
    return _rejected(
        _("“%(name)s” is too big: each file may be at most %(limit)s.")
        % {"name": name, "limit": filesizeformat(limits.file_bytes)},
        name=name,
        limit=limits.file_bytes,
    )


# --- names ------------------------------------------------------------------------------------------


def _split_extension(name: str) -> tuple[str, str]:
    """(stem, lower-case extension); an all-digit suffix ("Foto 12.03.2024") is no extension."""
    stem, dot, suffix = name.rpartition(".")
    if dot and stem and 0 < len(suffix) <= _MAX_EXTENSION_LENGTH and suffix.isalnum() and not suffix.isdigit():
        return stem, suffix.lower()
    return name, ""


def clean_name(raw: str) -> str:
    """A display name: no directories, control or direction-changing characters, or shell and path
    punctuation; never empty; at most MAX_NAME_LENGTH characters."""
    name = re.split(r"[/\\]", raw or "")[-1]
    name = unicodedata.normalize("NFC", name)
    # Category C holds control and format characters, among them U+202E, which shows "gpj.exe" as "exe.jpg".
    name = "".join(" " if unicodedata.category(char).startswith("C") else char for char in name)
    name = _NAME_FORBIDDEN.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    return name[:MAX_NAME_LENGTH] or FALLBACK_NAME


def _display_name(raw: str, kind: FileKind) -> str:
    """The cleaned name with the extension of what the file really is."""
    stem, extension = _split_extension(clean_name(raw))
    if extension not in _FAMILY_EXTENSIONS[kind]:
        # An unknown suffix ("Dr. Budi") is part of the name, not an extension to replace.
        stem = f"{stem}.{extension}" if extension else stem
    suffix = f".{EXTENSIONS[kind]}"
    return stem.strip(" .")[: MAX_NAME_LENGTH - len(suffix)] + suffix if stem.strip(" .") else FALLBACK_NAME + suffix


def _check_name(raw_name: str, kind: FileKind) -> None:
    name = clean_name(raw_name)
    _stem, extension = _split_extension(name)
    if extension in _ACTIVE_EXTENSIONS:
        raise _not_accepted(name)
    if extension in _KNOWN_EXTENSIONS and extension not in _FAMILY_EXTENSIONS[kind]:
        raise _rejected(
            _(
                "“%(name)s” is named as another kind of file but contains %(actual)s; "
                "rename it to end in .%(extension)s."
            )
            % {"name": name, "actual": KIND_LABELS[kind], "extension": EXTENSIONS[kind]},
            name=name,
        )


# --- content ----------------------------------------------------------------------------------------


def sniff(data: bytes) -> FileKind | None:
    """What ``data`` is by its first bytes (and, for text, by all of it); None: not accepted."""
    if data.startswith(b"\xff\xd8\xff"):
        return FileKind.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileKind.PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return FileKind.WEBP
    if data.startswith(b"%PDF-"):
        return FileKind.PDF
    if _is_plain_text(data):
        return FileKind.TEXT
    return None


def _is_plain_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return bool(text.strip()) and not _TEXT_CONTROL.search(text)


def _has_markup(data: bytes) -> bool:
    return bool(_MARKUP.search(data))


def _check_pdf(data: bytes, name: str) -> None:
    """A PDF header and a trailer that points inside the file: enough to know it is a whole PDF, not
    a renamed file or a truncated upload. Its content is never interpreted here."""
    tail = data[-_PDF_TAIL_BYTES:]
    pointers = _PDF_STARTXREF.findall(tail)
    whole = (
        _PDF_HEADER.match(data) is not None
        and bool(pointers)
        and int(pointers[-1]) < len(data)
        and (b"trailer" in data or b"/XRef" in data)
    )
    if not whole:
        raise _rejected(
            _("“%(name)s” is not a complete PDF document; it may be damaged or cut off.") % {"name": name},
            name=name,
        )


# Every kind of action a PDF reader can perform (ISO 32000-2, 12.6.4): none is kept. A dictionary
# naming one of them is emptied wherever it is found. No other PDF dictionary uses these /S values.
_PDF_ACTION_TYPES = frozenset(
    {
        "/GoTo", "/GoToR", "/GoToE", "/GoToDp", "/Launch", "/Thread", "/URI", "/Sound", "/Movie", "/Hide",
        "/Named", "/SubmitForm", "/ResetForm", "/ImportData", "/JavaScript", "/SetOCGState", "/Rendition",
        "/Trans", "/GoTo3DView", "/RichMediaExecute",
    }
)  # fmt: skip
# Keys that hold actions (/OpenAction, /AA, the /A of links, widgets and bookmarks), scripts, forms
# (whose fields compute and submit with scripts) or embedded files (which a reader offers to open).
_PDF_ACTIVE_KEYS = (
    "/OpenAction", "/AA", "/JS", "/JavaScript", "/AcroForm", "/XFA", "/EmbeddedFiles", "/EF", "/RichMediaContent",
)  # fmt: skip
# Annotations that exist to play, run or carry something: dropped whole.
_PDF_ACTIVE_ANNOTATIONS = frozenset({"/FileAttachment", "/Movie", "/Sound", "/Screen", "/RichMedia", "/3D"})


def _pdf_value(item: Any, key: str) -> Any:
    """``item[key]`` resolved when it is a reference (``dict.get`` of pypdf's dictionaries is not)."""
    value = item.get(key)
    return value.get_object() if value is not None else None


def _pdf_name_in(item: Any, key: str, names: frozenset[str]) -> bool:
    value = _pdf_value(item, key)
    return isinstance(value, str) and value in names


def _disarm_pdf_object(item: Any) -> None:
    """Strip one dictionary of what a reader could run or open."""
    from pypdf.generic import ArrayObject, DictionaryObject

    if _pdf_name_in(item, "/S", _PDF_ACTION_TYPES) or _pdf_name_in(item, "/Type", frozenset({"/Action"})):
        item.clear()
        return
    for key in _PDF_ACTIVE_KEYS:
        item.pop(key, None)
    # /A is an action in links, widgets, bookmarks and screen annotations; elsewhere a dictionary
    # under /A (structure attributes) is of no use to a page copied on its own.
    if isinstance(_pdf_value(item, "/A"), DictionaryObject):
        item.pop("/A")
    annotations = _pdf_value(item, "/Annots")
    if isinstance(annotations, ArrayObject):
        annotations[:] = [
            annotation
            for annotation in annotations
            if not (
                isinstance(annotation.get_object(), DictionaryObject)
                and _pdf_name_in(annotation.get_object(), "/Subtype", _PDF_ACTIVE_ANNOTATIONS)
            )
        ]


def _disarm_pdf(pages: Iterable[Any]) -> None:
    """Remove every action, script, form and embedded file reachable from ``pages``, before they are
    copied: the copy then holds nothing of them, whichever key (/A, /AA, /Next, a widget's /Parent
    field, a private key) led there."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    seen: set[tuple[int, int]] = set()
    pending: list[Any] = list(pages)
    while pending:
        item = pending.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            _disarm_pdf_object(item)
            pending.extend(item.values())
        elif isinstance(item, ArrayObject):
            pending.extend(item)


def _rewrite_pdf(data: bytes, name: str) -> bytes:
    """The pages again, in a new document without the metadata of the original (its /Info
    dictionary, its XMP stream and the pages' own XMP), which word processors fill with the name of
    whoever wrote it, and without anything a reader could run: the document's own catalog (its open
    action, scripts, form, bookmarks and embedded files) stays behind, and the pages lose their
    actions, links' actions, form widgets' scripts and file or media annotations (``_disarm_pdf``)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise _rejected(
                _("“%(name)s” is a password-protected PDF; send it without the password.") % {"name": name},
                name=name,
            )
        writer = PdfWriter()
        pages = list(reader.pages)
        _disarm_pdf(pages)
        for page in pages:
            page.pop("/Metadata", None)
            page.pop("/PieceInfo", None)
            writer.add_page(page)
        writer.metadata = None
        output = io.BytesIO()
        writer.write(output)
    except ReportError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        raise _rejected(
            _("“%(name)s” is not a complete PDF document; it may be damaged or cut off.") % {"name": name},
            name=name,
        ) from error
    return output.getvalue()


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
# Modes Pillow resamples smoothly; palette and 1-bit pictures are converted before they are resized.
_RESIZABLE_MODES = frozenset({"RGB", "RGBA", "L", "LA", "CMYK"})


def _to_srgb(image: Image.Image, mode: str) -> Image.Image:
    profile = image.info.get("icc_profile")
    if profile and image.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            converted = ImageCms.profileToProfile(
                image, ImageCms.ImageCmsProfile(io.BytesIO(profile)), _SRGB, outputMode=mode
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None
        if converted is not None:
            return converted
    return image.convert(mode)


def _damaged_image(name: str) -> ReportError:
    return _rejected(_("“%(name)s” could not be read as an image; it may be damaged.") % {"name": name}, name=name)


def _open_image(data: bytes, kind: FileKind, name: str, limits: AttachmentLimits) -> Image.Image:
    """The image with only its header read: refused, before anything is decoded, when it would decode
    to more than the pixel budget (Image.open is lazy; decoding waits for load())."""
    too_many_pixels = _rejected(
        _("“%(name)s” has too many pixels; send a smaller picture (at most %(megapixels)d megapixels).")
        % {"name": name, "megapixels": limits.pixels // 1_000_000},
        name=name,
    )
    try:
        # Pillow refuses to open more than twice its own pixel limit (DecompressionBombError); below
        # that, the limit configured here decides.
        opened = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[kind]])
        if kind == FileKind.JPEG:
            # Decode a large JPEG at 1/2, 1/4 or 1/8 scale: less memory for the same result.
            opened.draft(opened.mode, (limits.dimension, limits.dimension))
    except Image.DecompressionBombError:
        raise too_many_pixels from None
    # struct.error comes from some cut-off headers.
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error):
        raise _damaged_image(name) from None
    width, height = opened.size
    if width * height > limits.pixels:
        opened.close()
        raise too_many_pixels
    return opened


def _pixels_before_decoding(upload: UploadedFile[Any], limits: AttachmentLimits) -> int:
    """How many pixels ``upload`` would decode to, from its header (0 for a file that is no image)."""
    name = clean_name(upload.name or "")
    data = _read(upload, name, limits)
    kind = sniff(data)
    if kind not in IMAGE_KINDS:
        return 0
    with _open_image(data, kind, name, limits) as opened:
        width, height = opened.size
    return width * height


def _reencode_image(data: bytes, kind: FileKind, name: str, limits: AttachmentLimits) -> bytes:
    with _open_image(data, kind, name, limits) as opened:
        try:
            opened.load()
            # In place: a picture that needs no turning is not copied whole.
            ImageOps.exif_transpose(opened, in_place=True)
            has_alpha = kind != FileKind.JPEG and opened.has_transparency_data
            if opened.mode in _RESIZABLE_MODES:
                # Made small first, so that the colour conversion copies the small picture, not the large one.
                opened.thumbnail((limits.dimension, limits.dimension), Image.Resampling.LANCZOS)
            image = _to_srgb(opened, "RGBA" if has_alpha else "RGB")
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error):
            raise _damaged_image(name) from None
    image.thumbnail((limits.dimension, limits.dimension), Image.Resampling.LANCZOS)
    # Pixels only: a new image carries none of the original's metadata, whatever a format's writer
    # would otherwise copy from ``info``.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    output = io.BytesIO()
    if kind == FileKind.JPEG:
        clean.save(output, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif kind == FileKind.PNG:
        clean.save(output, "PNG", optimize=True)
    else:
        clean.save(output, "WEBP", quality=WEBP_QUALITY)
    return output.getvalue()


def _read(upload: UploadedFile[Any], name: str, limits: AttachmentLimits) -> bytes:
    if upload.size is not None and upload.size > limits.file_bytes:
        raise _too_big(name, limits)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limits.file_bytes + 1)
    if len(data) > limits.file_bytes:
        raise _too_big(name, limits)
    if not data:
        raise _rejected(_("“%(name)s” is empty.") % {"name": name}, name=name)
    return data


def prepare_upload(upload: UploadedFile[Any], *, limits: AttachmentLimits | None = None) -> PreparedFile:
    """Check one uploaded file by its content and re-encode it if it is an image; a typed error
    (ATTACHMENT_REJECTED) says what is wrong with it."""
    limits = limits or attachment_limits()
    raw_name = upload.name or ""
    name = clean_name(raw_name)
    data = _read(upload, name, limits)
    kind = sniff(data)
    if kind is None:
        raise _not_accepted(name)
    _check_name(raw_name, kind)
    if kind in IMAGE_KINDS:
        data = _reencode_image(data, kind, name, limits)
        if len(data) > limits.file_bytes:
            raise _too_big(name, limits)
    elif kind == FileKind.PDF:
        _check_pdf(data, name)
        data = _rewrite_pdf(data, name)
        if len(data) > limits.file_bytes:
            raise _too_big(name, limits)
    elif _has_markup(data):
        raise _rejected(
            _(
                "“%(name)s” contains web page or SVG markup, which can carry scripts. Send the text as a "
                "plain text or PDF file, or a picture as JPEG or PNG."
            )
            % {"name": name},
            name=name,
        )
    return PreparedFile(
        content=data, kind=kind, original_name=_display_name(raw_name, kind), sha256=hashlib.sha256(data).hexdigest()
    )


def prepare_uploads(
    files: Sequence[UploadedFile[Any] | PreparedFile],
    *,
    existing_count: int = 0,
    existing_bytes: int = 0,
    limits: AttachmentLimits | None = None,
) -> list[PreparedFile]:
    """Check every file and the report's limits; refuses the whole batch if any one fails, so that a
    form can be fixed and sent again as a whole."""
    limits = limits or attachment_limits()
    if not files:
        raise _rejected(_("Choose at least one file."))
    if existing_count + len(files) > limits.count:
        raise _rejected(
            _("A report may have at most %(count)d files; it has %(existing)d already.")
            % {"count": limits.count, "existing": existing_count},
            limit=limits.count,
        )
    # Every picture's size is read from its header before any is decoded: the pictures of one upload
    # are refused together when decoding them all would cost too much.
    pixels = sum(_pixels_before_decoding(item, limits) for item in files if not isinstance(item, PreparedFile))
    if pixels > limits.batch_pixels:
        raise _rejected(
            _(
                "These pictures together have too many pixels: at most %(megapixels)d megapixels in all. "
                "Send fewer or smaller pictures."
            )
            % {"megapixels": limits.batch_pixels // 1_000_000},
            limit=limits.batch_pixels,
        )
    prepared = [item if isinstance(item, PreparedFile) else prepare_upload(item, limits=limits) for item in files]
    for item in prepared:
        if item.size > limits.file_bytes:
            raise _too_big(item.original_name, limits)
    total = existing_bytes + sum(item.size for item in prepared)
    if total > limits.total_bytes:
        raise _rejected(
            _("The files of a report may total at most %(limit)s; %(room)s is left for this report.")
            % {
                "limit": filesizeformat(limits.total_bytes),
                "room": filesizeformat(max(limits.total_bytes - existing_bytes, 0)),
            },
            limit=limits.total_bytes,
        )
    return prepared


# --- storage ----------------------------------------------------------------------------------------


def stored_attachment(prepared: PreparedFile, **fields: Any) -> Attachment:
    """An unsaved Attachment whose file is already written to storage under a random name."""
    attachment = Attachment(
        content_type=prepared.content_type,
        size=prepared.size,
        sha256=prepared.sha256,
        original_name=prepared.original_name,
        **fields,
    )
    attachment.file.save(f"{secrets.token_hex(16)}.{prepared.extension}", ContentFile(prepared.content), save=False)
    return attachment


def delete_stored(attachments: Iterable[Attachment]) -> None:
    for attachment in attachments:
        if attachment.file.name:
            attachment.file.storage.delete(attachment.file.name)
