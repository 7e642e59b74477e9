"""Reading an inbound email: whom it answers (the token or the thread), what is new in it
(quoted history and signatures stripped), and whether a person wrote it at all.

Pure functions on bytes, no database: feedback/inbound/services.py decides what to do with the
result. Everything here must survive garbage, because a message that fails to parse is still
kept (the service stores the raw bytes before calling in here) and staff must be able to read it.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import Any

from feedback.inbound.limits import Deadline, Limits, check_structure, precheck

# --- Charsets -----------------------------------------------------------------------------------

# Labels mail clients write that Python does not know, or knows as a narrower set than the
# client really used: Chinese clients label GBK/GB18030 text "gb2312", Outlook labels Korean
# "ks_c_5601-1987", Hebrew mail says "iso-8859-8-i".
CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "x-mac-cyrillic": "mac-cyrillic",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
    "us-ascii": "utf-8",  # 8-bit text labelled ASCII is nearly always UTF-8; ASCII is a subset.
    "ascii": "utf-8",
}


def _codec(label: str | None) -> str:
    label = (label or "utf-8").strip().strip('"').lower()
    label = CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return "utf-8"


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode text whose label may be wrong or unknown; never raises, never drops text."""
    codec = _codec(charset)
    for candidate in (codec, "utf-8"):
        try:
            return data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    # Unlabelled 8-bit mail from Windows clients is cp1252 more often than anything else, and
    # cp1252 with "replace" keeps every byte visible.
    return data.decode("cp1252" if codec == "utf-8" else codec, errors="replace")


def _fix_surrogates(text: str) -> str:
    """Raw 8-bit header bytes come out of the parser as surrogate escapes: decode them."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return decode_bytes(text.encode("utf-8", "surrogateescape"), "utf-8")


# --- Headers ------------------------------------------------------------------------------------


def parse_message(raw: bytes) -> Message:
    # policy.default decodes RFC 2047 headers and registers defects instead of raising.
    return BytesParser(policy=policy.default).parsebytes(raw)


def header(msg: Message, name: str) -> str:
    """All values of a header, decoded, joined by ", "; "" when absent or hopeless."""
    try:
        values = msg.get_all(name) or []
        return _fix_surrogates(", ".join(str(v) for v in values)).strip()
    except Exception:  # noqa: BLE001 - the header parser has raised on crafted input before
        pass
    # Fall back to the unparsed value and decode encoded-words by hand.
    found = []
    for key, value in msg.raw_items():
        if key.lower() != name.lower():
            continue
        try:
            found.append(str(make_header(decode_header(str(value)))))
        except Exception:  # noqa: BLE001 - same reason: keep the text as it came
            found.append(str(value))
    return _fix_surrogates(", ".join(found)).strip()


def addresses(values: Iterable[str]) -> list[str]:
    """Bare addresses (local@domain) from address-header values, in order, without blanks."""
    try:
        pairs = getaddresses([v for v in values if v])
    except Exception:  # noqa: BLE001 - getaddresses has had bugs on malformed input
        pairs = []
    return [addr.strip() for _name, addr in pairs if "@" in addr]


def message_ids(value: str) -> list[str]:
    """Message-IDs from In-Reply-To/References, kept with their angle brackets (as we store
    them; see feedback.surveys.emails.new_message_id)."""
    found = re.findall(r"<[^<>\s]+>", value or "")
    if not found and value.strip() and " " not in value.strip():
        # Some clients drop the brackets.
        found = [f"<{value.strip().strip('<>')}>"]
    return found


# --- Tokens -------------------------------------------------------------------------------------

TOKEN_ADDRESS = re.compile(r"^(reply|unsubscribe)\+([A-Za-z0-9_-]{16,64})@(.+)$", re.IGNORECASE)
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To")


@dataclass(frozen=True)
class TokenAddress:
    purpose: str  # "reply" or "unsubscribe"
    token: str
    address: str


def find_token(recipients: Sequence[str], domain: str) -> TokenAddress | None:
    """The first reply+/unsubscribe+ address at our domain. An unsubscribe address wins over a
    reply address: a customer who writes to both wants out."""
    matches = []
    for address in recipients:
        match = TOKEN_ADDRESS.match(address.strip())
        if match and match.group(3).lower().rstrip(".") == domain.lower():
            matches.append(TokenAddress(match.group(1).lower(), match.group(2), address.strip()))
    for purpose in ("unsubscribe", "reply"):
        for found in matches:
            if found.purpose == purpose:
                return found
    return None


# --- Auto-replies -------------------------------------------------------------------------------

AUTO_SUBJECT = re.compile(
    r"(out of (the )?office|automatic reply|auto[- ]?reply|auto[- ]?response|autoresponder"
    r"|vacation (reply|response|message)|abwesenheit|automatische antwort|réponse automatique"
    r"|respuesta automática|fuera de la oficina|risposta automatica|automatisch antwoord"
    r"|автоответ|автоматический ответ|вне офиса|нет на рабочем месте"
    r"|odpowied[zź] automatyczna|automatyczna odpowied[zź]|poza biurem|nieobecno[sś][cć]"
    r"|自动回复|自動回覆|自动答复|自動回復|不在办公室|رد تلقائي|رد آلي|خارج المكتب)",
    re.IGNORECASE,
)
AUTO_SUBJECT_PREFIX = re.compile(r"^\s*(\[?auto(matic)?\]?\s*:|undeliver|delivery status)", re.I)
BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster)@", re.IGNORECASE)


def auto_reply_reason(msg: Message, subject: str, from_email: str) -> str:
    """Why this message was written by a machine, or "" if a person probably wrote it.

    X-Auto-Response-Suppress is deliberately ignored: Exchange puts it on ordinary mail too.
    """
    submitted = header(msg, "Auto-Submitted").lower()
    if submitted and submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {submitted}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Autogenerated"):
        value = header(msg, name)
        if value and value.lower() not in {"no", "false", "0"}:
            return f"{name}: {value}"
    precedence = header(msg, "Precedence").lower()
    if precedence in {"auto_reply", "bulk", "junk"}:
        return f"Precedence: {precedence}"
    if msg.get_content_type() == "multipart/report" or header(msg, "X-Failed-Recipients"):
        return "a delivery or read report"
    if header(msg, "Return-Path").strip() == "<>":
        # RFC 3834: automatic responses go out with a null return path.
        return "null Return-Path (an automatic message)"
    if BOUNCE_SENDERS.match(from_email):
        return f"sent by {from_email}"
    if AUTO_SUBJECT.search(subject) or AUTO_SUBJECT_PREFIX.search(subject):
        return f"the subject {subject[:80]!r} is an automatic reply's"
    return ""


# --- Bodies -------------------------------------------------------------------------------------

SIGNATURE_PARTS = {"application/pgp-signature", "application/pkcs7-signature"}


@dataclass
class _Body:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # noqa: BLE001 - RFC 2231 parameters can be malformed
        name = ""
    return _fix_surrogates(name)


def _text_of(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - broken transfer encodings
        payload = None
    if payload is None:
        payload = str(part.get_payload() or "").encode("utf-8", "surrogateescape")
    if not isinstance(payload, bytes):
        return ""
    try:
        charset = part.get_content_charset()
        flowed = str(part.get_param("format") or "").lower() == "flowed"
    except Exception:  # noqa: BLE001
        charset, flowed = None, False
    text = decode_bytes(payload, charset)
    return unflow(text) if flowed and part.get_content_type() == "text/plain" else text


def unflow(text: str) -> str:
    """Undo RFC 3676 format=flowed: a line ending in a space continues on the next one."""
    out: list[str] = []
    joining = False
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith(" "):
            line = line[1:]  # space-stuffing
        if joining and out:
            out[-1] += line
        else:
            out.append(line)
        joining = line.endswith(" ") and line != "-- "
    return "\n".join(out)


def _collect(part: Message, body: _Body, depth: int = 0) -> None:
    if depth > 20:  # a crafted message can nest multiparts without end
        return
    ctype = part.get_content_type()
    disposition = part.get_content_disposition()
    name = _filename(part)
    if ctype == "message/rfc822":
        # A forwarded message is an attachment; its text is not the customer's reply.
        body.attachments.append(name or "forwarded message")
        return
    if part.is_multipart():
        children = part.get_payload()
        if not isinstance(children, list):
            return
        if ctype == "multipart/alternative":
            # Alternatives come in increasing order of preference; take one plain and one HTML.
            alternatives = []
            for child in children:
                sub = _Body()
                _collect(child, sub, depth + 1)
                alternatives.append(sub)
                body.attachments.extend(sub.attachments)
            plains = [b.plain for b in alternatives if "".join(b.plain).strip()]
            htmls = [b.html for b in alternatives if "".join(b.html).strip()]
            if plains:
                body.plain.extend(plains[0])
            if htmls:
                body.html.extend(htmls[-1])
            return
        if ctype == "multipart/related" and children:
            # The first part is the document; the rest are its inline images.
            _collect(children[0], body, depth + 1)
            return
        for child in children:
            _collect(child, body, depth + 1)
        return
    if ctype in SIGNATURE_PARTS:
        return
    if disposition == "attachment" or not ctype.startswith("text/"):
        body.attachments.append(name or ctype)
        return
    if ctype == "text/html":
        body.html.append(_text_of(part))
    elif ctype == "text/plain":
        body.plain.append(_text_of(part))
    else:
        body.attachments.append(name or ctype)


class _HtmlText(HTMLParser):
    """HTML to plain text for reading, dropping quoted history the mail clients mark up."""

    BLOCKS = frozenset(
        {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figure"}
        | {"fieldset", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr"}
        | {"li", "main", "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul"}
    )
    INVISIBLE = frozenset({"script", "style", "head", "title", "template", "xml"})
    VOID = frozenset(
        {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
        | {"track", "wbr"}
    )
    # Markup of the quoted message: Gmail, Yahoo, Thunderbird, Outlook signatures.
    QUOTE_CLASSES = frozenset(
        {"gmail_quote", "gmail_signature", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote"}
    )
    # Outlook puts the quoted message *after* these, not inside them: stop reading there.
    STOP_IDS = frozenset(
        {
            "divrplyfwdmsg",
            "x_divrplyfwdmsg",
            "appendonsend",
            "mail-editor-reference-message-container",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip_depth = 0  # >0 while inside a skipped element
        self.stack: list[str] = []
        self.stopped = False
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.stopped:
            return
        attributes = {k.lower(): (v or "") for k, v in attrs}
        classes = set(attributes.get("class", "").lower().split())
        if attributes.get("id", "").lower() in self.STOP_IDS or "outlookmessageheader" in classes:
            self.stopped = True
            return
        if tag in self.VOID:
            if not self.skip_depth and tag in self.BLOCKS:
                self.out.append("\n")
            return
        self.stack.append(tag)
        if self.skip_depth:
            self.skip_depth += 1
            return
        if tag in self.INVISIBLE or tag == "blockquote" or classes & self.QUOTE_CLASSES:
            self.skip_depth = 1
            return
        if attributes.get("id", "").lower() == "signature":  # Outlook's signature block
            self.skip_depth = 1
            return
        if tag == "pre":
            self.pre += 1
        if tag in self.BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self.stopped or tag in self.VOID:
            return
        # Tolerate unclosed tags: pop back to the matching start tag if there is one.
        if tag not in self.stack:
            return
        while self.stack:
            top = self.stack.pop()
            if self.skip_depth:
                self.skip_depth -= 1
            elif top == "pre":
                self.pre = max(0, self.pre - 1)
            if top == tag:
                break
        if not self.skip_depth and tag in self.BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self.stopped or self.skip_depth:
            return
        if not self.pre:
            data = re.sub(r"[ \t\r\n\f]+", " ", data)
        self.out.append(data.replace("\xa0", " "))


def html_to_text(html: str) -> str:
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - html.parser is lenient, but keep what was read
        pass
    lines = [line.strip() for line in "".join(parser.out).split("\n")]
    return "\n".join(lines)


# --- Quoted history and signatures --------------------------------------------------------------

WROTE = re.compile(
    r"(wrote|écrit|schrieb|escribió|escreveu|scritto|schreef|skrev|pisze|napisał\(a\)|napisał"
    r"|napisała|написал\(а\)|написал|написала|пишет|写道|寫道|كتب)\s*[:：]\s*$",
    re.IGNORECASE,
)
# Arabic clients put the verb before the name: "في الأحد، 22 نوفمبر 2026 10:00 ص، كتب Acme <…>:".
WROTE_BEFORE_NAME = re.compile(r"(^|\s)كتب\s.{1,200}[:：]\s*$")
# Polish Apple Mail: "Wiadomość napisana przez Acme <…> w dniu 22.11.2026, o godz. 10:00:".
WRITTEN_BY = re.compile(r"^wiadomo[sś][cć] napisana przez\s.*[:：]\s*$", re.IGNORECASE)
ON_START = re.compile(r"^(On|Le|Am|El|Il|Op|Em|Den|W dniu|В|在|في)\b", re.IGNORECASE)
# Yandex/Mail.ru and some Russian clients: "20.11.2026, 10:00, Brand <feedback@example.com>:".
DATED_HEADER = re.compile(r"^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b.*<[^<>\s]+@[^<>\s]+>\s*[:：]\s*$")
# Gmail in Russian has no verb either: "пт, 20 нояб. 2026 г. в 10:00, Brand <feedback@…>:".
TIMED_HEADER = re.compile(r"\b\d{4}\b.*\b\d{1,2}:\d{2}\b.*<[^<>\s]+@[^<>\s]+>\s*[:：]\s*$")
ATTRIBUTION_END = re.compile(r"[:：]\s*$")
# The first line of an attribution a client wrapped: it stops inside the address or the date.
WRAPPED = re.compile(r"(<|,|，|،)$")
ORIGINAL_MESSAGE = re.compile(
    r"^[-_=\s]*(original message|forwarded message|исходное сообщение|пересылаемое сообщение"
    r"|oryginalna wiadomo[sś][cć]|wiadomo[sś][cć] oryginalna|ursprüngliche nachricht"
    r"|message d'origine|mensaje original|messaggio originale|原始邮件|原始郵件|转发的邮件"
    r"|الرسالة الأصلية|الرسالة المعاد توجيهها)"
    r"[-_=\s]*$",
    re.IGNORECASE,
)
FROM_LINE = re.compile(
    r"^\W{0,3}(from|von|de|da|van|fra|från|от|od|发件人|寄件者|差出人|من)\W{0,3}\s*[:：]",
    re.IGNORECASE,
)
HEADER_LINE = re.compile(
    r"^\W{0,3}(sent|date|to|subject|cc|gesendet|datum|an|betreff|envoyé|à|objet|enviado|para"
    r"|asunto|отправлено|дата|кому|копия|тема|wysłano|wysłane|data|do|dw|temat|发送时间|日期"
    r"|收件人|抄送|主题|送信日時|件名|التاريخ|أرسل|تم الإرسال|إلى|نسخة|الموضوع)\W{0,3}\s*[:：]",
    re.IGNORECASE,
)
MOBILE_SIGNATURE = re.compile(
    r"^(sent from|sent with|sent via|get outlook for|envoyé de|envoyé depuis|von meinem"
    r"|gesendet von|enviado desde|enviado do|inviato da|verzonden (vanaf|met)|отправлено с"
    r"|wysłane z|发自我的|从我的|來自我的|أرسلت من)",
    re.IGNORECASE,
)
RULE_LINE = re.compile(r"^[-_=*~]{3,}$")
# Direction marks (Gmail wraps Arabic attributions in them) and the BOM are invisible: they
# must not keep a header from matching.
FORMAT_MARKS = dict.fromkeys(
    map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"), None
)
# Quote headers are short; longer lines are never tried (the patterns with .* are quadratic).
MAX_HEADER_CHARS = 400


def _clean_line(line: str) -> str:
    return line.translate(FORMAT_MARKS).replace("\xa0", " ").strip()


def _is_attribution(text: str) -> bool:
    """ "On …, Acme <…> wrote:" in any of its languages and orders, on one (joined) line."""
    if DATED_HEADER.match(text) or TIMED_HEADER.search(text):
        return True
    dated = re.search(r"\d|@|<", text) is not None
    if WROTE.search(text) and (dated or ON_START.match(text)):
        return True
    return dated and bool(WROTE_BEFORE_NAME.search(text) or WRITTEN_BY.match(text))


def _quote_header_at(lines: list[str], i: int) -> tuple[int, int] | None:
    """The first and last line of a quote header ending (or, for Outlook's, starting) at line
    i, or None."""
    line = _clean_line(lines[i])
    if not line or len(line) > MAX_HEADER_CHARS:
        return None
    if ORIGINAL_MESSAGE.match(line) and any(c.isalpha() for c in line):
        return i, i
    if re.fullmatch(r"_{10,}", line):
        return i, i  # Outlook's plain-text separator
    if FROM_LINE.match(line):
        window = [_clean_line(candidate) for candidate in lines[i + 1 : i + 6]]
        if any(HEADER_LINE.match(candidate) for candidate in window if candidate):
            return i, i
    if not ATTRIBUTION_END.search(line):
        return None
    # An attribution ends with a colon; clients wrap long ones (Gmail breaks after the "<" of
    # a long address), so it may start up to two lines above.
    found = None
    joined = ""
    for start in range(i, max(-1, i - 3), -1):
        part = _clean_line(lines[start])
        if not part or (found is not None and not WRAPPED.search(part)):
            break  # a line above a header that already reads whole is the customer's
        joined = re.sub(r"<\s+", "<", re.sub(r"\s+>", ">", f"{part} {joined}".strip()))
        if len(joined) > MAX_HEADER_CHARS:
            break
        if _is_attribution(joined):
            found = (start, i)
    return found


def _strip_signature(lines: list[str]) -> list[str]:
    for i, line in enumerate(lines):
        stripped = line.rstrip()
        if stripped in {"--", "-- "} or (len(stripped) < 80 and MOBILE_SIGNATURE.match(stripped)):
            return lines[:i]
    return lines


def _tidy(lines: list[str]) -> str:
    kept = [line.rstrip() for line in lines if not line.lstrip().startswith(">")]
    text = "\n".join(kept).strip()
    text = re.sub(r"\n{3,}", "\n\n", text)
    # A separator left over right above the cut quote ("____", "-----") is not the reply.
    trimmed = text.split("\n")
    while trimmed and RULE_LINE.match(trimmed[-1].strip()):
        trimmed.pop()
    return "\n".join(trimmed).strip()


def new_text(body: str) -> str:
    """The part of a reply its sender wrote just now: above the first quote header, without
    ">" lines or signature. If nothing is above the header (bottom posting), what follows the
    quote instead."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    found = next((block for i in range(len(lines)) if (block := _quote_header_at(lines, i))), None)
    if found is None:
        return _tidy(_strip_signature(lines))
    cut, end = found
    text = _tidy(_strip_signature(lines[:cut]))
    if text:
        return text
    rest = lines[end + 1 :]
    if any(line.lstrip().startswith(">") for line in rest):
        return _tidy(_strip_signature([line for line in rest if not line.startswith(">")]))
    return ""


# --- What is stored -----------------------------------------------------------------------------

# The addresses and links that act for the customer (answer, unsubscribe): whoever reads a text
# that kept one could use it, so one that slipped through the quote stripping is removed.
TOKEN_ADDRESS_IN_TEXT = re.compile(
    r"\b(?:reply|unsubscribe)\+[A-Za-z0-9_-]{8,64}@[A-Za-z0-9.-]*[A-Za-z0-9]", re.IGNORECASE
)
TOKEN_LINK_IN_TEXT = re.compile(r"\bhttps?://[^\s<>\"']+?/[su]/[A-Za-z0-9_-]{16,64}/[^\s<>\"']*")
ADDRESS_REMOVED = "[address removed]"
LINK_REMOVED = "[link removed]"


def clean_text(value: str) -> str:
    """Text for a text column: PostgreSQL refuses NUL in text (the raw bytes keep it)."""
    return value.replace("\x00", "")


def scrub(text: str) -> str:
    """clean_text, and no reply+/unsubscribe+ address or survey/unsubscribe link left."""
    text = TOKEN_ADDRESS_IN_TEXT.sub(ADDRESS_REMOVED, clean_text(text))
    return TOKEN_LINK_IN_TEXT.sub(LINK_REMOVED, text)


# --- Scores -------------------------------------------------------------------------------------

BARE_SCORE = re.compile(
    r"^\s*(\d{1,2})\s*(?:(?:/|out of|of|из|na|z|من|分|점)\s*\d{1,2})?\s*(?:分|points?|pts)?"
    r"\s*[.!。]*\s*$",
    re.IGNORECASE,
)


def bare_score(text: str) -> int | None:
    """The score when the whole reply is a number ("9", "9/10", "9 out of 10", "٩", "９")."""
    match = BARE_SCORE.match(text or "")
    if not match:
        return None
    try:
        return int(match.group(1))  # int() reads any script's decimal digits
    except ValueError:
        return None


# --- The whole message --------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedEmail:
    from_email: str
    to: str
    recipients: tuple[str, ...]
    subject: str
    message_id: str
    in_reply_to: str
    references: tuple[str, ...]
    text: str
    attachments: tuple[str, ...]
    auto_reply: str

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this message answers, the most direct first."""
        ids = message_ids(self.in_reply_to) + list(reversed(self.references))
        return list(dict.fromkeys(ids))


def parse(
    raw: bytes, *, envelope_recipients: Sequence[str] = (), limits: Limits | None = None
) -> ParsedEmail:
    """Read one message. Raises OverLimit (feedback.inbound.limits) when it is over a cap:
    checked on the raw bytes first, then on the parsed structure, then against the time budget
    between the steps."""
    limits = limits or Limits.from_settings()
    deadline = Deadline(limits.seconds)
    precheck(raw, limits)
    msg = parse_message(raw)
    check_structure(msg, limits)
    deadline.check("headers")
    from_list = addresses([header(msg, "From")])
    from_email = from_list[0] if from_list else ""
    subject = header(msg, "Subject")
    to_value = ", ".join(v for v in (header(msg, "To"), header(msg, "Cc")) if v)
    recipients = addresses([header(msg, name) for name in RECIPIENT_HEADERS])
    recipients += [r for r in envelope_recipients if r]
    deadline.check("addresses")
    body = _Body()
    try:
        _collect(msg, body)
    except Exception:  # noqa: BLE001 - keep the headers even when the body is hopeless
        body = _Body()
    deadline.check("MIME parts")
    plain = "\n".join(body.plain)
    source = plain if plain.strip() else html_to_text("\n".join(body.html))
    deadline.check("HTML")
    text = new_text(source)
    deadline.check("quoted history")
    message_id_list = message_ids(header(msg, "Message-ID"))
    return ParsedEmail(
        from_email=clean_text(from_email),
        to=clean_text(to_value),
        recipients=tuple(dict.fromkeys(recipients)),
        subject=clean_text(subject),
        message_id=clean_text(message_id_list[0] if message_id_list else ""),
        in_reply_to=clean_text(header(msg, "In-Reply-To")),
        references=tuple(clean_text(i) for i in message_ids(header(msg, "References"))),
        text=scrub(text),
        attachments=tuple(clean_text(name) for name in body.attachments),
        auto_reply=clean_text(auto_reply_reason(msg, subject, from_email)),
    )


def raw_from_anymail(message: Any, esp_event: Any) -> bytes:
    """The message as bytes from anymail's inbound event: the ESP's own raw copy when it sent
    one (Postmark's RawEmail), else the message anymail rebuilt from the ESP's fields."""
    if isinstance(esp_event, dict) and isinstance(esp_event.get("RawEmail"), str):
        return esp_event["RawEmail"].encode("utf-8", "surrogateescape")
    try:
        return bytes(message.as_bytes())
    except Exception:  # noqa: BLE001 - a rebuilt message with odd headers may not serialise
        return str(message.as_string()).encode("utf-8", "surrogateescape")
