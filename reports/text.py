"""Someone's text, shown and never interpreted, in every format.

Every text field is a tag, a name or an API message, so it is hostile until proven
otherwise. Beyond each format's own escaping (HTML entities, CSV formula cells, Markdown
markup), two things reach a reader through any format:

- **Bidirectional and invisible control characters.** U+202E (right-to-left override) and
  its kin reorder what is displayed (CVE-2021-42574, "Trojan Source"), so a resource name
  can show as something it is not; C0 and C1 controls can drive a terminal. Each is
  replaced by a visible mark, ``⟨U+202E⟩``: the reader sees that it was there.
  ``show_controls`` does it to a whole rendered file (the marks hold no markup in any
  format). The JSON report, a machine contract, keeps the data and writes each as its
  ``\\u202e`` escape instead (``json_escape_controls``): the same string once parsed,
  shown as text by anything that displays the file.
- **Links GitHub makes by itself** in a Markdown comment: URLs (``https://…``,
  ``www.…``), cross-references (``owner/repo#1``, ``#1``, ``GH-1``) and mentions
  (``@user``, ``@org/team``) become links or notifications. ``defuse_links`` puts a
  zero-width space inside each trigger (``https:\u200b//``, ``#\u200b1``, ``@\u200buser``):
  the text reads the same and GitHub leaves it alone.
"""

from __future__ import annotations

import re

# Bidirectional formatting characters (Unicode TR9): embeddings, overrides, isolates and
# marks, and the Arabic letter mark.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
# C0 controls but tab, newline and carriage return (which each format handles itself),
# DEL, and the C1 controls (U+0080-U+009F; ESC-like in some terminals).
_C0_C1 = frozenset(
    [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"]
    + [chr(0x7F)]
    + [chr(c) for c in range(0x80, 0xA0)]
)
INVISIBLE = BIDI_CONTROLS | _C0_C1

_SHOWN = str.maketrans({c: f"⟨U+{ord(c):04X}⟩" for c in INVISIBLE})
_JSON_ESCAPED = str.maketrans({c: f"\\u{ord(c):04x}" for c in BIDI_CONTROLS})
ZWSP = "\u200b"

# What GitHub turns into a link or a notification in a comment.
_URL_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*):(?=//)")
_WWW = re.compile(r"(?i)\b(www)\.")
_ISSUE_REF = re.compile(r"#(?=\d)")
_GH_REF = re.compile(r"(?i)\b(gh)-(?=\d)")
_MENTION = re.compile(r"@")


def show_controls(text: str) -> str:
    """``text`` with every bidi and control character as a visible ``⟨U+XXXX⟩`` mark."""
    return text.translate(_SHOWN)


def json_escape_controls(text: str) -> str:
    """JSON text with the bidi characters inside its strings as ``\\uXXXX`` escapes.

    Valid only on JSON text (where those characters can only be inside strings, and the
    other controls are escaped by the encoder already)."""
    return text.translate(_JSON_ESCAPED)


def defuse_links(text: str) -> str:
    """Plain text GitHub will not autolink, cross-reference or @mention."""
    text = _URL_SCHEME.sub(lambda m: f"{m.group(1)}:{ZWSP}", text)
    text = _WWW.sub(lambda m: f"{m.group(1)}{ZWSP}.", text)
    text = _ISSUE_REF.sub(f"#{ZWSP}", text)
    text = _GH_REF.sub(lambda m: f"{m.group(1)}-{ZWSP}", text)
    return _MENTION.sub(f"@{ZWSP}", text)
