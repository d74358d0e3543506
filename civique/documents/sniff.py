"""Content-type detection from the bytes (never the extension) and the ZIP bomb guard."""

from __future__ import annotations

import io
import re
import zipfile
import zlib

from civique.documents.types import ParseLimits
from civique.errors import UserError

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
CSV = "text/csv"
HTML = "text/html"
MARKDOWN = "text/markdown"
TEXT = "text/plain"
EML = "message/rfc822"

# Short names shown to users and compared with the file name's extension.
KIND_NAMES = {
    PDF: "PDF", DOCX: "DOCX", PPTX: "PPTX", XLSX: "XLSX", ODT: "ODT", ODS: "ODS",
    CSV: "CSV", HTML: "HTML", MARKDOWN: "Markdown", TEXT: "TXT", EML: "EML",
}
EXTENSIONS = {
    "pdf": PDF, "docx": DOCX, "pptx": PPTX, "xlsx": XLSX, "odt": ODT, "ods": ODS, "csv": CSV,
    "html": HTML, "htm": HTML, "md": MARKDOWN, "markdown": MARKDOWN, "txt": TEXT, "eml": EML,
}
# Text formats are told apart by structure, which is ambiguous: these count as the same family.
TEXT_FAMILY = {TEXT, MARKDOWN, CSV}

_OOXML_MARKERS = (("word/document.xml", DOCX), ("ppt/presentation.xml", PPTX),
                  ("xl/workbook.xml", XLSX))
_ODF_TYPES = {ODT.encode(): ODT, ODS.encode(): ODS}
# Office 97-2003 files, and password-protected modern Office files, are CFB containers.
_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY_SIGNATURES = (
    (_CFB, "DOC/XLS/PPT (Office 97-2003)"),
    (b"\x89PNG", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF8", "GIF"), (b"RIFF", "RIFF"),
    (b"\x1f\x8b", "GZIP"), (b"7z\xbc\xaf", "7Z"), (b"Rar!", "RAR"), (b"{\\rtf", "RTF"),
    (b"MZ", "EXE"), (b"\x7fELF", "ELF"), (b"%!PS", "PostScript"),
)
_EML_HEADER = re.compile(
    rb"^(Return-Path|Received|From|To|Subject|Date|Message-ID|MIME-Version|Delivered-To|"
    rb"X-[A-Za-z-]+|Content-Type|Reply-To|Cc):[ \t]", re.IGNORECASE)
_HTML_START = re.compile(
    # A page, or a fragment exported by a CMS that starts with a block element.
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*"
    rb"<(!doctype\s+html|html|head|body|meta|title|"
    rb"p|div|h[1-6]|table|ul|ol|section|article|main)\b",
    re.IGNORECASE | re.DOTALL)


# What reading a damaged or exotic ZIP member can raise.
ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, ValueError,
                   OSError, RuntimeError)


def extension_of(filename: str) -> str:
    """The lower-case extension of a file name, without the dot ('' when none)."""
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def sniff(data: bytes, filename: str, limits: ParseLimits) -> str:
    """Return the media type of `data`, judged from its content; refuse unsupported ones."""
    head = data[:2048]
    if b"%PDF-" in data[:1024]:
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(data, limits)
    if head.startswith(_CFB) and "EncryptedPackage".encode("utf-16-le") in data:
        raise UserError("doc_encrypted", 422)  # a password-protected DOCX/XLSX/PPTX
    for signature, name in _BINARY_SIGNATURES:
        if head.startswith(signature):
            raise UserError("doc_unsupported", 415, kind=name)
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UserError("doc_unsupported", 415, kind="binary")
    return _sniff_text(head, filename)


def _sniff_zip(data: bytes, limits: ParseLimits) -> str:
    """Tell the ZIP-based office formats apart, after refusing archives that unpack too much."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except ZIP_READ_ERRORS as exc:
        raise UserError("doc_corrupt", 422, kind="ZIP") from exc
    with archive:
        check_zip_bounds(archive, len(data), limits)
        names = set(archive.namelist())
        if "mimetype" in names:
            try:
                declared = archive.read("mimetype").strip()
            except ZIP_READ_ERRORS as exc:
                raise UserError("doc_corrupt", 422, kind="ZIP") from exc
            if declared in _ODF_TYPES:
                return _ODF_TYPES[declared]
            raise UserError("doc_unsupported", 415, kind=declared.decode("ascii", "replace")[:80])
        for marker, media_type in _OOXML_MARKERS:
            if marker in names:
                return media_type
    raise UserError("doc_unsupported", 415, kind="ZIP")


def check_zip_bounds(archive: zipfile.ZipFile, size: int, limits: ParseLimits) -> None:
    """Refuse a ZIP whose declared content is too large, too compressed or has too many members.

    Python's zipfile stops reading a member at its declared size, so checking the declared sizes
    before any extraction bounds what the office libraries can inflate.
    """
    members = archive.infolist()
    declared = sum(info.file_size for info in members)
    compressed = sum(info.compress_size for info in members)
    ratio = declared // max(compressed, 1)
    too_compressed = declared > 10 * 1024 * 1024 and ratio > limits.max_compression_ratio
    if (len(members) > limits.max_zip_members or declared > limits.max_decompressed_bytes
            or too_compressed):
        raise UserError("doc_zip_bomb", 413, size=declared, limit=limits.max_decompressed_bytes,
                        ratio=ratio)


def _sniff_text(head: bytes, filename: str) -> str:
    """Pick a text format from the first bytes: e-mail headers, HTML, CSV, Markdown or plain."""
    body = head.lstrip(b"\xef\xbb\xbf")
    if _EML_HEADER.match(body) and re.search(rb"^(From|Subject|Date):", body, re.I | re.M):
        return EML
    if _HTML_START.match(body):
        return HTML
    ext = EXTENSIONS.get(extension_of(filename))
    text = body.decode("utf-8", "replace")
    if len(head) == 2048:
        text = text.rsplit("\n", 1)[0]  # the last line may be cut by the 2 kB head
    if _looks_like_csv(text, declared=ext == CSV):
        return CSV
    if ext == MARKDOWN or re.search(r"^#{1,6} \S|^\s*[-*] \S.*\n\s*[-*] \S", text, re.M):
        return MARKDOWN
    return TEXT


def _looks_like_csv(text: str, declared: bool) -> bool:
    """True when the first lines share one delimiter count (fewer lines needed if named .csv)."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    needed = 2 if declared else 5
    if len(lines) < needed:
        return False
    for delimiter in (";", ",", "\t", "|"):
        counts = {line.count(delimiter) for line in lines}
        if len(counts) == 1 and counts.pop() >= 1:
            return True
    return False
