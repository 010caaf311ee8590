"""Is a settings file safe to hand to QSettings?

QSettings writes any value it has no text form for as ``@Variant(...)``, a QDataStream blob, and
PySide6 stores a Python object there as a pickle. Reading such a file back unpickles the object
(PySide6 before 6.12 with ``pickle.loads``, later ones with a restricted unpickler), and QSettings
decodes a whole ini section at once, so even a key the workbench never asks for would be
unpickled. The workbench writes only text, string lists and ``@ByteArray``; so a file with a
``@Variant`` anywhere is refused before QSettings parses it.

The check decodes the file as QSettings decodes an ini value (its escapes: ``\\x40`` and ``\\100``
are "@"; its quotes, which it drops) and looks for the marker anywhere, so no spelling of it
slips through; a path that happens to hold "@Variant(" is refused too, which costs nothing.
"""
from __future__ import annotations

import string

MARKER = "@Variant("
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
            '"': '"', "?": "?", "'": "'", "\\": "\\"}
_HEX = frozenset(string.hexdigits)
_OCTAL = frozenset("01234567")
_BACKSLASH, _QUOTE = ord("\\"), ord('"')


def holds_stored_object(raw: bytes) -> bool:
    """True when QSettings would read a ``@Variant`` (a stored object) from this ini text."""
    return MARKER in decode_like_qsettings(raw)


def decode_like_qsettings(raw: bytes) -> str:
    """``raw`` with QSettings' ini value escapes decoded and its unescaped quotes dropped (the
    rules of ``QSettingsPrivate::iniUnescapedStringList``: hex and octal escapes read every digit
    that follows and wrap to 16 bits; an unknown escape is skipped)."""
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        byte = raw[i]
        if byte == _QUOTE:
            i += 1
        elif byte == _BACKSLASH:
            i += 1
            if i >= n:
                break
            ch = chr(raw[i])
            i += 1
            if ch in _ESCAPES:
                out.append(_ESCAPES[ch])
            elif ch == "x":
                value, start = 0, i
                while i < n and chr(raw[i]) in _HEX:
                    value = ((value << 4) + int(chr(raw[i]), 16)) & 0xFFFF
                    i += 1
                if i > start:
                    out.append(chr(value))
            elif ch in _OCTAL:
                value = int(ch)
                while i < n and chr(raw[i]) in _OCTAL:
                    value = ((value << 3) + int(chr(raw[i]))) & 0xFFFF
                    i += 1
                out.append(chr(value))
        else:
            end = i + 1
            while end < n and raw[end] not in (_BACKSLASH, _QUOTE):
                end += 1
            out.append(raw[i:end].decode("utf-8", errors="replace"))
            i = end
    return "".join(out)
