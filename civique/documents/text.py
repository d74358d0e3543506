"""Text formats: plain text, Markdown, CSV, HTML (stdlib parser) and e-mail (stdlib email)."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import re
from email.message import EmailMessage
from html.parser import HTMLParser

from civique.documents.types import Section

_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
_SKIPPED_TAGS = {"script", "style", "noscript", "template", "svg", "head", "iframe", "object"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = {"p", "div", "br", "li", "tr", "table", "ul", "ol", "section", "article", "header",
           "footer", "blockquote", "pre", "dd", "dt", "hr", "main", "nav", "aside", "form"}


def decode(data: bytes) -> str:
    """Decode text bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:  # old French files are usually Windows-1252
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def parse_text(text: str) -> list[Section]:
    """Plain text: one section."""
    return [Section(text=text)] if text.strip() else []


def parse_markdown(text: str) -> tuple[list[Section], str | None]:
    """Markdown split at its ATX headings (label = heading text)."""
    sections: list[Section] = []
    starts = list(_MD_HEADING.finditer(text))
    if not starts:
        return parse_text(text), None
    if text[: starts[0].start()].strip():
        sections.append(Section(text=text[: starts[0].start()]))
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        sections.append(Section(text=text[match.start():end], label=match.group(2).strip()))
    title = next((m.group(2).strip() for m in starts if m.group(1) == "#"), None)
    return [s for s in sections if s.text.strip()], title


def parse_csv(text: str) -> list[Section]:
    """CSV rows as lines of cells joined by ' | ' (delimiter sniffed)."""
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, ";,\t|")
    except csv.Error:
        dialect = csv.excel
    lines = []
    for row in csv.reader(io.StringIO(text), dialect):
        cells = [cell.strip() for cell in row if cell.strip()]
        if cells:
            lines.append(" | ".join(cells))
    return parse_text("\n".join(lines))


class _HtmlText(HTMLParser):
    """Collects visible text, split into sections at headings; scripts and styles dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[Section] = []
        self.parts: list[str] = []
        self.label: str | None = None
        self.heading: list[str] | None = None
        self.skip_depth = 0
        self.title_parts: list[str] | None = None
        self.title = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.title_parts = []
        elif tag in _SKIPPED_TAGS:
            self.skip_depth += 1
        elif tag in _HEADINGS and not self.skip_depth:
            self._flush()
            self.heading = []
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self.title_parts is not None:
            self.title = " ".join("".join(self.title_parts).split())
            self.title_parts = None
        elif tag in _SKIPPED_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _HEADINGS and self.heading is not None:
            self.label = " ".join("".join(self.heading).split()) or None
            self.parts.append((self.label or "") + "\n")
            self.heading = None
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.title_parts is not None:
            self.title_parts.append(data)
        elif self.skip_depth:
            return
        elif self.heading is not None:
            self.heading.append(data)
        else:
            self.parts.append(data)

    def _flush(self) -> None:
        text = tidy("".join(self.parts))
        if text:
            self.sections.append(Section(text=text, label=self.label))
        self.parts = []

    def finish(self) -> None:
        """Close the parser and the last section."""
        self.close()
        self._flush()


def tidy(text: str) -> str:
    """Collapse runs of spaces and blank lines left by markup or page layout."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = re.sub(r"[ \t\u00a0]+\n", "\n", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def parse_html(text: str) -> tuple[list[Section], str | None]:
    """Visible text of an HTML page, one section per heading."""
    parser = _HtmlText()
    parser.feed(text)
    parser.finish()
    first_heading = next((s.label for s in parser.sections if s.label), None)
    return parser.sections, parser.title or first_heading


def parse_eml(data: bytes) -> tuple[list[Section], str | None]:
    """An e-mail: a header section (from, to, date, subject) then the body (plain, else HTML)."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    subject = str(message.get("Subject", "") or "").strip() or None
    names = ("From", "To", "Cc", "Date", "Subject")
    header = "\n".join(f"{name}: {message[name]}" for name in names if message.get(name))
    sections = [Section(text=header, label=subject)] if header else []
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain", "html"))
    if body is not None:
        content = str(body.get_content())
        if body.get_content_subtype() == "html":
            body_sections, _ = parse_html(content)
            sections.extend(Section(text=s.text, label=s.label or subject) for s in body_sections)
        elif content.strip():
            sections.append(Section(text=content, label=subject))
    return sections, subject


def eml_attachments(data: bytes, limit: int = 20) -> list[tuple[str, bytes]]:
    """The attached files of an e-mail (name, bytes), at most `limit`, inline images left out."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    found: list[tuple[str, bytes]] = []
    for part in message.iter_attachments():
        name = part.get_filename()
        if not name or part.get_content_maintype() == "image":
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and payload:
            found.append((name, payload))
        if len(found) >= limit:
            break
    return found
