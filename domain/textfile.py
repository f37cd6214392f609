"""Decode the text files municipalities publish: UTF-8 with or without a BOM, or cp932."""
from __future__ import annotations


class EncodingError(ValueError):
    pass


def detect_encoding(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("cp932")
        return "cp932"
    except UnicodeDecodeError:
        raise EncodingError("文字コードが UTF-8 でも Shift_JIS (cp932) でもありません") from None


def read_text(data: bytes) -> str:
    text = data.decode(detect_encoding(data))
    return text.replace("\r\n", "\n").replace("\r", "\n")
