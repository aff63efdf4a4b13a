"""The hostile-image corpus (`../shared/corpus/manifest.tsv`) as test cases, shared by the
validator, `validate` CLI and web-form walks.

`expected_verdicts(shared_dir)` reads the manifest; `CorpusCase.allows(mode, got)` says
whether an outcome ("ok" or a reason code) is right for the `content` or `full` column:
`a|b` means either, `*` means any clear answer (only a crash is wrong).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

REASONS = frozenset({"format", "width", "size_small", "size_large", "corrupt", "bomb"})
OUTCOMES = REASONS | {"ok"}


@dataclass(frozen=True)
class CorpusCase:
    """One manifest row. `content` / `full`: the allowed outcomes, None for `*`."""

    rel: str
    path: Path
    content: frozenset[str] | None
    full: frozenset[str] | None
    what_it_is: str

    def expected(self, mode: str) -> frozenset[str] | None:
        """Allowed outcomes for `mode` ('content' or 'full'); None = anything clear."""
        return {"content": self.content, "full": self.full}[mode]

    def allows(self, mode: str, got: str) -> bool:
        """Whether `got` ('ok' or one of the six reason codes) is a right answer."""
        expected = self.expected(mode)
        if got not in OUTCOMES:
            return False
        return expected is None or got in expected


def _parse(cell: str) -> frozenset[str] | None:
    cell = cell.strip()
    if cell == "*":
        return None
    values = frozenset(v.strip() for v in cell.split("|"))
    unknown = values - OUTCOMES
    if unknown:
        raise ValueError(f"unknown verdict {sorted(unknown)} in manifest")
    return values


def expected_verdicts(shared_dir: Path) -> list[CorpusCase]:
    """Every row of `<shared_dir>/corpus/manifest.tsv`, in manifest order."""
    root = Path(shared_dir) / "corpus"
    with (root / "manifest.tsv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [CorpusCase(rel=r["file"], path=root / r["file"], content=_parse(r["content"]),
                       full=_parse(r["full"]), what_it_is=r["what_it_is"]) for r in rows]


# The `make_cases.py --big` size-boundary files (not in the manifest) under the notice's
# default rules, with MB = 1024x1024 bytes (RULES.md, our default): both bounds inclusive.
BIG_SIZE_CASES = {
    "gen_size_2MiB_minus1.jpg": "size_small",
    "gen_size_2MiB_exact.jpg": "ok",
    "gen_size_2MB_decimal_exact.jpg": "size_small",  # 2,000,000 < 2 MiB
    "gen_size_2MB_decimal_minus1.jpg": "size_small",
    "gen_size_10MiB_exact.jpg": "ok",
    "gen_size_10MiB_plus1.jpg": "size_large",
    "gen_size_10MB_decimal_exact.jpg": "ok",  # 10,000,000 < 10 MiB
    "gen_size_10MB_decimal_plus1.jpg": "ok",
}


def make_big_cases(out: Path, shared_dir: Path) -> Path:
    """Run `corpus/tools/make_cases.py --out OUT --big` (Pillow, deterministic; ~52 MB)
    with this interpreter and return OUT."""
    import subprocess
    import sys

    tool = Path(shared_dir) / "corpus" / "tools" / "make_cases.py"
    subprocess.run([sys.executable, str(tool), "--out", str(out), "--big"], check=True,
                   capture_output=True)
    return Path(out)


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """Parse a JPEG file into (marker, payload) pairs, SOI to EOI, following the entropy-
    coded data after each SOS. Raises ValueError on a malformed stream or on any byte after
    EOI (a polyglot tail). Markers: 0xD8 SOI, 0xE0-0xEF APPn, 0xFE COM, 0xDB DQT, 0xC4
    DHT, 0xC0-0xCF SOFn, 0xDA SOS, 0xDD DRI, 0xD9 EOI."""
    import struct

    if data[:2] != b"\xff\xd8":
        raise ValueError("no SOI")
    segments: list[tuple[int, bytes]] = [(0xD8, b"")]
    i = 2
    while i < len(data):
        if data[i] != 0xFF:
            raise ValueError(f"expected a marker at {i}")
        while data[i] == 0xFF:
            i += 1
        marker = data[i]
        i += 1
        if marker == 0xD9:
            segments.append((0xD9, b""))
            if i != len(data):
                raise ValueError(f"{len(data) - i} bytes after EOI")
            return segments
        length = struct.unpack(">H", data[i:i + 2])[0]
        payload = data[i + 2:i + length]
        segments.append((marker, payload))
        i += length
        if marker == 0xDA:  # skip entropy-coded data: FF00 and RSTn belong to it
            while i < len(data) - 1:
                if data[i] == 0xFF and data[i + 1] != 0x00 and not 0xD0 <= data[i + 1] <= 0xD7:
                    break
                i += 1
    raise ValueError("no EOI")


# What a metadata-free JPEG of ours may contain: SOI, one JFIF APP0, tables, frame, scans.
ALLOWED_JPEG_MARKERS = {0xD8, 0xE0, 0xDB, 0xC4, 0xC0, 0xC2, 0xDD, 0xDA, 0xD9}


def metadata_problems(data: bytes) -> list[str]:
    """Everything in a JPEG that is more than pixels: APP1-APP15 (EXIF, XMP, ICC, IPTC,
    Adobe...), COM, a non-JFIF APP0, bytes after EOI, or tell-tale metadata strings.
    Empty list = clean."""
    problems = []
    try:
        segments = jpeg_segments(data)
    except ValueError as exc:
        return [f"unparseable: {exc}"]
    for marker, payload in segments:
        if marker not in ALLOWED_JPEG_MARKERS:
            problems.append(f"marker 0x{marker:02X} ({payload[:16]!r})")
        elif marker == 0xE0 and not payload.startswith(b"JFIF\0"):
            problems.append(f"APP0 that is not JFIF: {payload[:16]!r}")
    if sum(1 for m, _ in segments if m == 0xE0) > 1:
        problems.append("more than one APP0")
    for needle in (b"Exif\0", b"http://ns.adobe.com", b"ICC_PROFILE", b"Photoshop 3.0",
                   b"8BIM", b"<x:xmpmeta", b"<?xpacket", b"<script", b"<!DOCTYPE"):
        if needle in data:
            problems.append(f"contains {needle!r}")
    return problems
