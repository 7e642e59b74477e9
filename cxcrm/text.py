"""One rule for control characters in text we store: refused at input, stripped from headers.

A name, an id or a subject is one line: it may end up in an email header (Subject, a display
name), a CSV cell or a log line, where a line break or another control character either breaks
the message (Django raises BadHeaderError and the email is lost) or smuggles in a header. So
single-line fields refuse every C0 control (tab included), DEL, the C1 controls (U+0085 is a line
break to Python's ``str.splitlines``) and the Unicode line and paragraph separators. Multi-line
texts (bodies, comments) keep tab, CR and LF. Rows stored before this rule are cleaned where a
header is built (``header_text``), so they still get their email.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _

_SINGLE_LINE_CLASS = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
_MULTI_LINE_CLASS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
SINGLE_LINE_FORBIDDEN = re.compile(f"[{_SINGLE_LINE_CLASS}]")
MULTI_LINE_FORBIDDEN = re.compile(f"[{_MULTI_LINE_CLASS}]")
_HEADER_BREAKS = re.compile(f"[{_SINGLE_LINE_CLASS}]+")


def _named(char: str) -> str:
    names = {"\r": _("a carriage return (CR)"), "\n": _("a line break (LF)"), "\t": _("a tab")}
    if char in names:
        return names[char]
    return _("the control character %(code)s") % {"code": f"U+{ord(char):04X}"}


def control_character_error(value: str, *, single_line: bool = True) -> str:
    """The reason ``value`` is refused, or "" when it is fine."""
    found = (SINGLE_LINE_FORBIDDEN if single_line else MULTI_LINE_FORBIDDEN).search(value)
    if found is None:
        return ""
    # Staff read it in the admin and the CSV import preview (in their language); the API in
    # the request's (English unless Accept-Language asks otherwise).
    if single_line:
        return _("Contains %(character)s; only printable characters are allowed on one line.") % {
            "character": _named(found.group())
        }
    return _("Contains %(character)s; only printable characters are allowed in this text.") % {
        "character": _named(found.group())
    }


@deconstructible
class ControlCharacterValidator(RegexValidator):
    """Django validator for model, form and DRF fields. A RegexValidator of the allowed text,
    so the API schema (drf-spectacular) publishes the rule as the field's ``pattern``; the
    error names the character found."""

    def __init__(self, *, single_line: bool = True) -> None:
        self.single_line = single_line
        allowed = _SINGLE_LINE_CLASS if single_line else _MULTI_LINE_CLASS
        super().__init__(rf"\A[^{allowed}]*\Z", code="control_character")

    def __call__(self, value: object) -> None:
        message = control_character_error(str(value), single_line=self.single_line)
        if message:
            raise ValidationError(message, code=self.code, params={"value": value})


single_line = ControlCharacterValidator(single_line=True)
multi_line = ControlCharacterValidator(single_line=False)


def header_text(value: object) -> str:
    """A header value built from stored text: every run of control characters or line breaks
    becomes one space, so older data can neither break the message nor add a header."""
    return _HEADER_BREAKS.sub(" ", str(value)).strip()
