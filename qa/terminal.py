"""Text bound for a terminal, and failures told in one line.

File names, titles, brokers and quotes come from PDFs anyone can write. An escape sequence
in a file name can clear the screen, retitle the window or rewrite the line above, so report
text goes through ``plain`` (or ``json_safe``) before the command line prints it.
"""
from __future__ import annotations

import re

# ESC sequences whole (CSI "ESC [ … final", OSC "ESC ] … BEL|ST", and two-byte ones), so no
# stray "[2J" is left behind; then single control characters: C0 but tab and newline, a
# carriage return not ending a line (it rewinds over what was printed), DEL, C1, and the
# bidirectional overrides that make a name display in another order than it reads.
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]|\r(?!\n)")
_RAW_IN_JSON = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
MAX_MESSAGE_CHARS = 600


class CommandError(Exception):
    """A failure the user can fix; its message is the whole story (printed as one line)."""


def plain(text: object) -> str:
    """``text`` safe to print: control characters and escape sequences removed, and bytes
    that were not UTF-8 (surrogate escapes from ``sys.argv`` or file names) shown as ``?``."""
    text = _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", str(text)))
    return text.encode("utf-8", "replace").decode("utf-8")


def one_line(text: object, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``plain`` text on one line, cut at ``limit`` characters (a message, not a dump)."""
    text = " ".join(plain(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def json_safe(dumped: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``) with the characters a terminal
    acts on, or cannot encode, written as ``\\uXXXX`` escapes: lossless, still valid JSON
    (``json.dumps`` already escapes C0 controls)."""
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)


def has_undecodable_bytes(text: str) -> bool:
    """True for text decoded from bytes that were not valid UTF-8 (``sys.argv`` and file
    names keep such bytes as lone surrogates, which nothing downstream can encode)."""
    return any("\ud800" <= c <= "\udfff" for c in text)
