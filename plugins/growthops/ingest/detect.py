"""What a refused file looks like, in words: the delimiter a header splits by when it is not the
comma, and the encoding of bytes that are not UTF-8 (gzip, ZIP/XLSX, UTF-16, Windows-1252)."""

from __future__ import annotations

from pathlib import Path


def _norm(name: str) -> str:
    return name.strip().casefold()


DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


def delimiter_hint(found: list[str], names: dict[str, str]) -> str:
    """``; the file looks semicolon-delimited ...`` when the header splits into contract columns by
    another delimiter than the comma (exports must be comma-separated, SPEC §2); else ``""``."""
    header = ",".join(found)
    best = ""
    for delimiter, label in DELIMITERS.items():
        parts = [p.strip().strip('"') for p in header.replace(",", delimiter).split(delimiter)]
        known = [p for p in parts if _norm(p) in names]
        if len(known) >= 2 and len(known) > len([f for f in found if _norm(f) in names]):
            best = (
                f"; detected delimiter: {label} ({delimiter!r}) — the header splits into {len(parts)} columns "
                f"by it, {len(known)} of them contract columns; exports must be comma-separated: re-export "
                "with ',' as the delimiter"
            )
            break
    return best


def describe_encoding(path: Path, limit: int = 1 << 16) -> str:
    """What a file that is not UTF-8 looks like: gzip, ZIP/XLSX, UTF-16, or the first bad byte."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(limit)
    except OSError as exc:
        return f"unreadable: {exc}"
    if head[:2] == b"\x1f\x8b":
        return "detected: gzip-compressed bytes (a .csv.gz named .csv?): decompress it first"
    if head[:4] == b"PK\x03\x04":
        return "detected: a ZIP archive (an .xlsx workbook?): export it as CSV"
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "detected: UTF-16 (byte-order mark): re-export as UTF-8"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = head[exc.start]
        line = head[: exc.start].count(b"\n") + 1
        guess = head[exc.start : exc.start + 1].decode("cp1252", errors="replace")
        return (
            f"detected: byte 0x{bad:02X} at offset {exc.start} (line {line}) is not UTF-8; "
            f"as Windows-1252/Latin-1 it reads {guess!r}: re-export as UTF-8"
        )
    return "detected: invalid UTF-8 after the first 64 KiB"
