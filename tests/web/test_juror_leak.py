"""THE LEAK TEST (issue #4): an entry whose unit name, authors, adviser, caption, file name,
EXIF Artist / Copyright / ImageDescription / GPS, XMP and JPEG comment carry unique marker
strings goes through the real intake into a round. Everything a juror can fetch — every
page, script, stylesheet, JSON response and image reachable from /judge, following every
href/src/import — is crawled; no marker appears in any encoding, and every juror image is
a bare JPEG (SOI, DQT, SOF, DHT, SOS, DRI, EOI, at most an APP0 JFIF header)."""

from __future__ import annotations

import html
import io
import json
import re
from collections import deque
from pathlib import Path
from urllib.parse import quote, quote_plus, urljoin, urlsplit

from PIL import ExifTags, Image
from sqlalchemy import select

from contest import entries as entry_service
from contest.models import AIUse, EntryFile, FileKind, Role, TrackKind
from contest.storage import get_storage
from tests import factories as f
from tests.conftest import login_client

MARKERS = {
    "unit": ["QXUNIT4711", "锦绣泄密职业学院"],
    "city": ["吕梁市"],
    "authors": ["QXAUTH4712", "柏翠芬"],
    "adviser": ["QXADV4713", "郦宏图"],
    "caption_time": ["QXCTIME4714"],
    "caption_place": ["QXCPLACE4715", "汾河湾实训基地"],
    "caption_people": ["QXCPEOPLE4716"],
    "caption_event": ["QXCEVENT4717"],
    "content_reviewer": ["QXREVIEWER4718"],
    "filename": ["QXFILE4719", "毕业设计终稿"],
    "exif_artist": ["QXEXIFARTIST4720"],
    "exif_copyright": ["QXEXIFCOPY4721"],
    "exif_description": ["QXEXIFDESC4722"],
    "exif_gps": ["QXGPSAREA4723"],
    "xmp": ["QXXMPCREATOR4724"],
    "comment": ["QXCOMMENT4725"],
}
TITLE = "星火传承 匠心筑梦"
STATEMENT = "以流动的红色线条串联课堂与车间，表现技能成才的道路。"

ALLOWED_JPEG_MARKERS = {0xD8, 0xD9, 0xDB, 0xC0, 0xC1, 0xC2, 0xC4, 0xDA, 0xDD, 0xE0}


def _encodings(marker: str) -> list[bytes]:
    """The marker as it could appear in a response: UTF-8, UTF-16 (both orders),
    percent-encoded (upper and lower hex), JSON \\u escapes, HTML numeric entities."""
    forms = {marker.encode("utf-8"), marker.encode("utf-16-le"), marker.encode("utf-16-be"),
             quote(marker).encode(), quote(marker).lower().encode(), quote_plus(marker).encode(),
             json.dumps(marker)[1:-1].encode(), json.dumps(marker)[1:-1].lower().encode(),
             "".join(f"&#{ord(c)};" for c in marker).encode(),
             "".join(f"&#x{ord(c):x};" for c in marker).encode()}
    return sorted(forms)


def _poster_with_metadata() -> bytes:
    """A ≥ 2 MiB, 2100 px wide JPEG whose EXIF, GPS, XMP and comment carry markers."""
    img = f.make_poster((2100, 2970), seed=47, text="SHANXI 2024")
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = MARKERS["exif_artist"][0]
    exif[ExifTags.Base.Copyright] = MARKERS["exif_copyright"][0]
    exif[ExifTags.Base.ImageDescription] = MARKERS["exif_description"][0]
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (37.0, 31.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (111.0, 8.0, 40.25)
    gps[ExifTags.GPS.GPSAreaInformation] = b"ASCII\0\0\0" + MARKERS["exif_gps"][0].encode()
    xmp = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
           b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
           b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
           b'xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Description><dc:creator>'
           + MARKERS["xmp"][0].encode() +
           b"</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=92, exif=exif, xmp=xmp,
             comment=MARKERS["comment"][0].encode())
    data = f.pad_to(buf.getvalue(), 2 * 1024 * 1024 + 4096)
    # sanity: the file really carries what the juror must never get
    with Image.open(io.BytesIO(data)) as check:
        assert check.getexif()[ExifTags.Base.Artist] == MARKERS["exif_artist"][0]
        assert MARKERS["xmp"][0] in check.info["xmp"].decode()
        assert check.info["comment"] == MARKERS["comment"][0].encode()
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"
    return data


def _intake(session, app, contest, unit, entrant, tmp_path: Path):  # noqa: ANN001, ANN202
    """Submit the marker entry through the entries service, as the entrant's upload does."""
    data = entry_service.EntryData(
        title=TITLE, authors=f"{MARKERS['authors'][0]}、{MARKERS['authors'][1]}",
        adviser=f"{MARKERS['adviser'][1]} {MARKERS['adviser'][0]}", statement=STATEMENT,
        caption_time=MARKERS["caption_time"][0],
        caption_place=f"{MARKERS['caption_place'][1]}{MARKERS['caption_place'][0]}",
        caption_people=MARKERS["caption_people"][0], caption_event=MARKERS["caption_event"][0],
        ai_use=AIUse.none, content_review_confirmed=True,
        content_reviewer=MARKERS["content_reviewer"][0], originality_confirmed=True)
    track = contest.track(TrackKind.vet_week)
    entry = entry_service.create_draft(session, contest=contest, track=track, unit=unit,
                                       data=data, created_by=entrant)
    upload = tmp_path / "upload.part"
    upload.write_bytes(_poster_with_metadata())
    cfg = app.config
    prepared = entry_service.prepare_image(
        upload, rules=entry_service.intake_rules(contest, cfg["MAX_IMAGE_PIXELS"]),
        storage=get_storage(), original_filename=f"{MARKERS['filename'][1]}"
        f"_{MARKERS['filename'][0]}.jpg", preview_long_edge_px=cfg["PREVIEW_LONG_EDGE_PX"],
        thumb_long_edge_px=cfg["THUMB_LONG_EDGE_PX"])
    entry_service.attach_image(session, entry, prepared, actor=entrant)
    entry_service.submit_entry(session, entry, actor=entrant, data=data)
    session.flush()
    return entry


_LINK_RE = re.compile(rb"""(?:href|src|action|data-[a-z-]+-url)\s*=\s*["']([^"']+)["']""", re.I)
_IMPORT_RE = re.compile(rb"""(?:import|from)\s*\(?\s*["']([^"']+\.m?js)["']""")
_CSS_URL_RE = re.compile(rb"""url\(\s*["']?([^"')]+)["']?\s*\)""")


def _links(url: str, body: bytes, mimetype: str) -> set[str]:
    found = set()
    if mimetype == "text/html":
        found |= {html.unescape(m.decode()) for m in _LINK_RE.findall(body)}
    elif mimetype in ("text/javascript", "application/javascript"):
        found |= {m.decode() for m in _IMPORT_RE.findall(body)}
    elif mimetype == "text/css":
        found |= {m.decode() for m in _CSS_URL_RE.findall(body)}
    out = set()
    for link in found:
        if not link or link.startswith(("javascript:", "mailto:", "#", "data:")):
            continue
        absolute = urljoin(url, link)
        parts = urlsplit(absolute)
        if parts.netloc not in ("", "localhost"):
            continue
        if parts.path.startswith(("/judge", "/static")) or parts.path == "/":
            out.add(parts.path + (f"?{parts.query}" if parts.query else ""))
    return out


def _jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of every segment of a baseline/progressive JPEG; fails on trailing
    bytes after EOI or anything that is not a marker where one must be."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    segs: list[tuple[int, bytes]] = [(0xD8, b"")]
    i = 2
    while True:
        assert data[i] == 0xFF, f"expected a marker at byte {i}"
        while data[i] == 0xFF:
            i += 1
        marker = data[i]
        i += 1
        if marker == 0xD9:
            segs.append((0xD9, b""))
            break
        if 0xD0 <= marker <= 0xD7:
            continue
        length = int.from_bytes(data[i:i + 2], "big")
        segs.append((marker, data[i + 2:i + length]))
        i += length
        if marker == 0xDA:  # entropy-coded data up to the next real marker
            while True:
                j = data.index(b"\xff", i)
                nxt = data[j + 1]
                if nxt == 0x00 or 0xD0 <= nxt <= 0xD7 or nxt == 0xFF:
                    i = j + 1 if nxt == 0xFF else j + 2
                    continue
                i = j
                break
    assert i == len(data), f"{len(data) - i} bytes after EOI"
    return segs


def test_nothing_identifying_reaches_the_juror(app, session, contest, tmp_path):
    unit = f.make_unit(session, f"{MARKERS['unit'][1]}{MARKERS['unit'][0]}",
                       city=MARKERS["city"][0])
    entrant = f.make_user(session, Role.entrant, unit=unit, login="leakschool",
                          display_name=f"{MARKERS['unit'][1]}联系人")
    entry = _intake(session, app, contest, unit, entrant, tmp_path)
    other = f.make_entry(session, f.make_unit(session, city="大同市"), title="另一件作品")
    f.attach_original(session, other, f.poster_bytes(f.make_poster((900, 1270), seed=5)))
    juror = f.make_user(session, Role.juror, login="leakjuror", display_name="评委甲")
    round_ = f.make_round_with_rubric(session, contest.track(TrackKind.vet_week), [juror],
                                      seed=9)
    session.commit()
    assert entry.code and entry.code.startswith("ZJ")
    original = entry.current_file(FileKind.original)
    original_bytes = get_storage().path(original.storage_key).read_bytes()
    for marker in (MARKERS["exif_artist"][0], MARKERS["xmp"][0], MARKERS["comment"][0]):
        assert marker.encode() in original_bytes  # the input really is loaded
    assert MARKERS["filename"][0] in original.original_filename

    client = login_client(app, juror)
    anon = {re.entry_id: re.anon_code for re in round_.round_entries}
    score_url = f"/judge/r/{round_.id}/{anon[entry.id]}"
    responses: dict[str, tuple[int, str, bytes, bytes]] = {}

    def fetch(url: str, method: str = "GET", **kw) -> None:  # noqa: ANN003
        r = client.open(url, method=method, **kw)
        headers = "\n".join(f"{k}: {v}" for k, v in r.headers.items()).encode()
        responses[f"{method} {url} {len(responses)}"] = (r.status_code, r.mimetype,
                                                         r.get_data(), headers)
        return r

    queue = deque(["/judge/", score_url])
    seen: set[str] = set()
    while queue:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        r = fetch(url)
        if r.status_code in (301, 302, 303):
            queue.append(urlsplit(r.headers["Location"]).path)
            continue
        queue.extend(_links(url, r.get_data(), r.mimetype) - seen)

    # every JSON answer and form answer a juror can provoke on the marker entry
    crit = [c.id for c in round_.criteria]
    fetch_headers = {"X-Requested-With": "fetch", "Accept": "application/json"}
    fetch(score_url, "POST", data={"save": "1", f"c{crit[0]}": "20", "comment": "构图饱满"},
          headers=fetch_headers)
    fetch(score_url, "POST", data={"save": "1", f"c{crit[0]}": "99"}, headers=fetch_headers)
    fetch(score_url, "POST", data={"save": "1", f"c{crit[1]}": "12.3"})
    fetch(score_url, "POST", data={"save": "1", f"c{crit[1]}": "12.5"}, follow_redirects=True)
    fetch(f"/judge/r/{round_.id}/submit", "POST", data={"confirm": "y"}, follow_redirects=True)
    fetch(f"/judge/r/{round_.id}/A-0000")
    for url in list(seen):  # pages again, now with scores and flashes in them
        if url.startswith("/judge/r/"):
            fetch(url)

    # the crawl really reached everything a juror uses
    kinds = {mt for _s, mt, _b, _h in responses.values()}
    assert {"text/html", "image/jpeg", "application/json", "text/css"} <= kinds
    assert any(u.endswith("/static/js/judge.js") for u in seen)
    assert any("/static/vendor/panzoom-4.6.2/" in u for u in seen)
    pages = b"".join(b for _s, mt, b, _h in responses.values() if mt == "text/html")
    assert TITLE.encode() in pages and STATEMENT.encode() in pages and b"A-" in pages
    image_urls = [u for u in seen if u.startswith("/judge/img/")]
    assert len(image_urls) == 4  # display + thumbnail of both entries

    forbidden = [m for ms in MARKERS.values() for m in ms] + [entry.code, other.code]
    for key, (_status, mimetype, body, headers) in responses.items():
        blob = body + b"\n" + headers + b"\n" + key.encode()
        for marker in forbidden:
            for form in _encodings(marker):
                assert form not in blob, f"{marker!r} ({form!r}) leaked in {key} ({mimetype})"

    juror_tokens = set(session.scalars(select(EntryFile.public_token).where(
        EntryFile.kind.in_([FileKind.juror_display, FileKind.juror_thumb]),
        EntryFile.is_current.is_(True))))
    for key, (status, mimetype, body, _headers) in responses.items():
        if mimetype.startswith("image/"):
            assert status == 200 and mimetype == "image/jpeg", key
            for marker, payload in _jpeg_segments(body):
                assert marker in ALLOWED_JPEG_MARKERS, f"{key}: segment 0x{marker:02X}"
                if marker == 0xE0:
                    assert payload.startswith(b"JFIF\0"), f"{key}: APP0 that is not JFIF"
                    assert len(payload) == 14, f"{key}: JFIF with a thumbnail or extension"
            with Image.open(io.BytesIO(body)) as im:
                assert not im.getexif() and "icc_profile" not in im.info
                assert not (set(im.info) & {"exif", "xmp", "comment", "photoshop", "adobe"})
    # and the images served are the juror images, never the original or its previews
    served_tokens = {u.rsplit("/", 1)[1] for u in image_urls}
    assert served_tokens <= juror_tokens
    no_juror_kinds = [FileKind.original, FileKind.preview, FileKind.thumb]
    for f_row in entry.files:
        if f_row.kind in no_juror_kinds:
            data = get_storage().path(f_row.storage_key).read_bytes()
            assert all(data != b for _s, _m, b, _h in responses.values())
