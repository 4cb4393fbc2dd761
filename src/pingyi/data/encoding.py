"""The text encoding of a CSV or JSON table file, and a UTF-8 version of it for DuckDB.

UTF-8 (with or without BOM) is read as is; a file with a UTF-16 BOM (Excel's 'Unicode text') is
transcoded. Any other file is GBK or Big5, the two encodings Chinese exports use besides UTF-8, and
the bytes alone often cannot say which: almost every Big5 byte sequence is also valid GBK (it decodes
into other characters), and much GBK text is valid Big5. So:

- a file that decodes in one of the two only is in that one;
- a file that decodes in both is measured by charset-normalizer (its mess ratio of each decoding:
  0 reads as text, 1 is noise) on the lines that hold non-ASCII bytes; one wins when it reads as
  text (at most 0.10) and the other is noise by charset-normalizer's own default (0.20 or more). Else
  the run stops and names both candidates: decoding with the wrong one would turn every name into
  other characters, and a short file (a few names) often reads plausibly both ways;
- `encoding` (`--encoding NAME`) overrides the detection for every file that is not UTF-8.

GBK is decoded with GB18030 (its superset: rare characters in names decode too) and Big5 with
cp950 (its Windows superset); DuckDB's own GBK support needs an extension download, so it is not used.
"""

from __future__ import annotations

import codecs
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pingyi.errors import PingyiError
from pingyi.files import sha256_file

# label recorded in TableInfo.encoding -> the codec that decodes it
CANDIDATES = {"gbk": "gb18030", "big5": "cp950"}
SHOWN = {"gbk": "GBK", "big5": "Big5"}
SUPERSETS = {"gbk": "gb18030", "gb2312": "gb18030", "big5": "cp950"}
SAMPLE_BYTES = 64 * 1024  # of non-ASCII lines, for the mess ratio
MAX_MESS = 0.10  # the winner reads as text: at most this messy …
MIN_OTHER_MESS = 0.20  # … and the other decoding is noise (charset-normalizer's own default threshold)


@dataclass(frozen=True)
class TextSource:
    """A UTF-8 file to read (the file itself or a transcoded copy), the file's SHA-256 and its encoding."""

    path: Path
    sha256: str
    encoding: str


def encoding_name(name: str) -> str:
    """The codec name of `--encoding NAME` (gbk, big5, gb18030, utf-8 …); an unknown name is a user error."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise PingyiError(
            f"--encoding: unknown encoding '{name}'; expected a text encoding such as gbk, big5, gb18030 or utf-8"
        )
    return info.name


def utf8_source(path: Path, out: Path, encoding: str | None = None) -> TextSource:
    """A UTF-8 version of the text file `path`: itself, or a copy transcoded into `out`.

    UTF-8 that mixes CR LF and LF line ends (as a file appended to on two systems does), which
    DuckDB's CSV parser refuses, is copied with LF line ends."""
    sha, bad, head, mixed = _utf8_scan(path)
    if bad is None:
        label = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
        if not mixed:
            return TextSource(path, sha, label)
        _transcode(path, out, "utf-8-sig")
        return TextSource(out, sha, label)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and _transcode(path, out, "utf-16") is None:
        return TextSource(out, sha, "utf-16")
    if encoding is not None:
        label = encoding_name(encoding)
        failed = _transcode(path, out, SUPERSETS.get(label, label))
        if failed is None:
            return TextSource(out, sha, label)
        out.unlink(missing_ok=True)
        raise PingyiError(
            f"{path.name}: cannot decode the file as {label} (--encoding {encoding}): invalid byte at offset "
            f"{failed}; expected {label} text: pass the file's encoding, or re-save the file as UTF-8"
        )
    detected = _detect(path)
    if detected is not None:
        failed = _transcode(path, out, CANDIDATES[detected])
        if failed is None:
            return TextSource(out, sha, detected)
        out.unlink(missing_ok=True)
        raise PingyiError(
            f"{path.name}: cannot decode the file: its lines with non-ASCII text are {SHOWN[detected]}, but the byte "
            f"at offset {failed} is not; expected one encoding for the whole file: pass --encoding NAME, or "
            f"re-save the file as UTF-8"
        )
    offsets = {name: _first_bad(path, codec) for name, codec in CANDIDATES.items()}
    raise PingyiError(
        f"{path.name}: cannot decode the file: not UTF-8 (invalid byte at offset {bad}), not GBK (invalid byte at "
        f"offset {offsets['gbk']}) and not Big5 (invalid byte at offset {offsets['big5']}); expected UTF-8, GBK "
        f"or Big5 text: re-save the file as UTF-8, or pass --encoding NAME"
    )


def _detect(path: Path) -> str | None:
    """'gbk' or 'big5' (None: the sample decodes as neither); a user error when it cannot tell."""
    sample = _non_ascii_sample(path)
    decodes = {name: _decodable(sample, codec) for name, codec in CANDIDATES.items()}
    usable = {name: part for name, part in decodes.items() if part is not None}
    if len(usable) < 2:
        return next(iter(usable), None)
    mess = {name: _mess(part, CANDIDATES[name]) for name, part in usable.items()}
    best, other = sorted(mess, key=lambda n: mess[n])
    if mess[best] <= MAX_MESS and mess[other] >= MIN_OTHER_MESS:
        return best
    shown = ", ".join(f"{name} {mess[name]:.2f}" for name in CANDIDATES)
    raise PingyiError(
        f"{path.name}: cannot tell the encoding: not UTF-8, and it decodes as both GBK and Big5 with no clear "
        f"winner (candidates: {', '.join(CANDIDATES)}; charset-normalizer mess ratio {shown}, 0 = reads as text); "
        f"expected a file whose encoding can be told: pass --encoding gbk or --encoding big5 to `pingyi score` "
        f"or `pingyi quality`, or re-save the file as UTF-8"
    )


def _non_ascii_sample(path: Path, cap: int = SAMPLE_BYTES) -> bytes:
    """The file's lines that hold non-ASCII bytes, at most `cap` bytes of them, cut only at line ends
    (or, on a longer line, anywhere: `_decodable` tolerates a cut character at the end)."""
    kept: list[bytes] = []
    size = 0
    carry = b""
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            *lines, carry = (carry + chunk).split(b"\n")
            for line in lines:
                if not line.isascii():
                    kept.append(line[: cap - size])
                    size += len(kept[-1])
                    if size >= cap:
                        return b"\n".join(kept)
            if len(carry) > cap:
                if not carry.isascii():  # one very long line (a JSON array): its start is enough
                    kept.append(carry[: cap - size])
                    return b"\n".join(kept)
                carry = b""  # ASCII only: ends at a character boundary
    if not carry.isascii():
        kept.append(carry[: cap - size])
    return b"\n".join(kept)


def _decodable(sample: bytes, codec: str) -> bytes | None:
    """The sample without an incomplete character at its end, if it decodes with `codec`; else None."""
    dec = codecs.getincrementaldecoder(codec)()
    try:
        dec.decode(sample, final=False)
    except UnicodeDecodeError:
        return None
    pending = len(dec.getstate()[0])
    return sample[: len(sample) - pending] if pending else sample


def _mess(sample: bytes, codec: str) -> float:
    """charset-normalizer's mess ratio of `sample` decoded with `codec` (0 text … 1 noise)."""
    from charset_normalizer import from_bytes

    if not sample:
        return 0.0
    match = from_bytes(
        sample, steps=1, chunk_size=len(sample), threshold=1.0, cp_isolation=[codec], preemptive_behaviour=False
    ).best()
    return 1.0 if match is None else float(match.chaos)


def _utf8_scan(path: Path) -> tuple[str, int | None, bytes, bool]:
    """Hash the file and check it decodes as UTF-8, streaming.

    Returns (sha256, offset of the first invalid byte or None, first bytes, mixed line endings).
    The hash runs in a thread of its own (hashlib releases the GIL), beside the decoding here."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        sha = pool.submit(sha256_file, path)
        bad, head, mixed = _utf8_check(path)
        return sha.result(), bad, head, mixed


def _utf8_check(path: Path) -> tuple[int | None, bytes, bool]:
    """(offset of the first invalid UTF-8 byte or None, first bytes, mixed line endings).

    Line endings are mixed when some LF ends a line after a CR and another does not. Within a chunk
    every CR LF counted holds one of its LFs, so the file mixes them when one chunk holds a CR LF and
    one (the same or another) holds more LFs than CR LFs; a chunk without CR is checked by a byte
    search, not counted."""
    dec = codecs.getincrementaldecoder("utf-8")()
    offset, bad, head = 0, None, b""
    any_crlf = any_bare_lf = False
    last = b""
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            if not head:
                head = chunk[:4]
            joined = last == b"\r" and chunk[:1] == b"\n"  # a CR LF across two chunks
            if b"\r" in chunk:
                crlf = chunk.count(b"\r\n") + joined
                any_crlf = any_crlf or crlf > 0
                any_bare_lf = any_bare_lf or chunk.count(b"\n") > crlf
            else:
                any_crlf = any_crlf or joined
                any_bare_lf = any_bare_lf or b"\n" in chunk[1:] or (chunk[:1] == b"\n" and not joined)
            last = chunk[-1:]
            if bad is None:
                try:
                    dec.decode(chunk)
                except UnicodeDecodeError as exc:
                    bad = offset + exc.start
            offset += len(chunk)
        if bad is None:
            try:
                dec.decode(b"", final=True)
            except UnicodeDecodeError as exc:
                bad = offset - len(dec.getstate()[0]) + exc.start
    return bad, head, any_crlf and any_bare_lf


def _first_bad(path: Path, codec: str) -> int | None:
    """The offset of the first byte `codec` cannot decode, or None."""
    dec = codecs.getincrementaldecoder(codec)()
    offset = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            try:
                dec.decode(chunk)
            except UnicodeDecodeError as exc:
                return offset + exc.start
            offset += len(chunk)
    try:
        dec.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return offset - len(dec.getstate()[0]) + exc.start
    return None


def _transcode(path: Path, out: Path, encoding: str) -> int | None:
    """Stream-decode `path` with `encoding` into a UTF-8 file with \\n line ends (CR LF -> LF);
    return the offset of an undecodable byte, or None."""
    dec = codecs.getincrementaldecoder(encoding)()
    offset, pending = 0, ""
    with open(path, "rb") as src, open(out, "w", encoding="utf-8", newline="") as dst:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            try:
                text = pending + dec.decode(chunk)
            except UnicodeDecodeError as exc:
                return offset + exc.start
            offset += len(chunk)
            pending = "\r" if text.endswith("\r") else ""
            dst.write((text[:-1] if pending else text).replace("\r\n", "\n"))
        try:
            text = pending + dec.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return offset - len(dec.getstate()[0]) + exc.start
        dst.write(text.replace("\r\n", "\n"))
    return None
