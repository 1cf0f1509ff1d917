"""PDS4 labels: product metadata from a label (defusedxml) and a label for any product.

Read: identification (logical identifier, version, title, class, aliases), observation times,
purpose and processing level, investigation, observing-system host and instrument, target,
external references (DOI, citation text) and the file names of the file areas. Written labels
carry the same fields in the PDS4 common namespace (v1), so that import -> export -> import
gives identical metadata. Mission-specific areas (e.g. ``lro:LRO_Parameters``) are not kept."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as ET

from ..errors import RecordError, TimeError
from ..timescales import parse_utc

NS = "http://pds.nasa.gov/pds4/pds/v1"
CART = "http://pds.nasa.gov/pds4/cart/v1"
# A product's version_id "is expressed in the PDS [m.n] notation" (PDS4 core schema 1Q00, simpleType
# pds:version_id): a major and a minor version, each a non-negative integer. Leading zeros are
# refused so that one version has one spelling ("1.0", never "01.0"), and the digits are bounded so
# that a version fits the products.vid column and sorts as two integers.
VERSION_ID = re.compile(r"(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})")

BOUNDS = (
    "west_bounding_coordinate",
    "east_bounding_coordinate",
    "north_bounding_coordinate",
    "south_bounding_coordinate",
)


@dataclass(frozen=True)
class ProductMetadata:
    lid: str  # urn:...:bundle:collection:product
    vid: str  # "2.0"
    title: str
    product_class: str = "Product_Observational"
    start: str | None = None  # ISO UTC
    stop: str | None = None
    purpose: str | None = None
    processing_level: str | None = None  # PDS4 value
    investigation: str | None = None
    host: str | None = None
    instrument: str | None = None
    target: str | None = None
    doi: str | None = None
    citation: str | None = None
    alternate_ids: tuple[str, ...] = ()
    file_names: tuple[str, ...] = ()
    bounds: tuple[float, float, float, float] | None = None  # cart:Bounding_Coordinates: W, E, N, S (deg)
    # Identification_Area/Citation_Information (bundles and collections carry their DOI there)
    authors: str | None = None
    publication_year: str | None = None
    dataset_doi: str | None = None  # the product's own DOI (External_Reference's ``doi`` cites a paper)
    description: str | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def lidvid(self) -> str:
        return f"{self.lid}::{self.vid}"


def _text(el, path: str) -> str | None:
    node = el.find(path, {"p": NS})
    if node is None or node.text is None:
        return None
    return " ".join(node.text.split())


def read_label(data: bytes | str, source: str = "<label.xml>") -> ProductMetadata:
    """Metadata of a PDS4 label; a malformed label raises RecordError naming the missing element."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise RecordError(source, getattr(exc, "position", (1, 0))[0], "xml", str(exc)) from None
    except DefusedXmlException as exc:
        raise RecordError(source, 1, "xml", f"refused: {exc!r} (entities and DTDs are not accepted)") from None
    if not root.tag.startswith("{" + NS + "}"):
        raise RecordError(source, 1, "root", f"not a PDS4 label (namespace {NS} expected)")
    ident = root.find("p:Identification_Area", {"p": NS})
    if ident is None:
        raise RecordError(source, 1, "Identification_Area", "missing")
    lid, vid, title = _text(ident, "p:logical_identifier"), _text(ident, "p:version_id"), _text(ident, "p:title")
    for name, value in (("logical_identifier", lid), ("version_id", vid), ("title", title)):
        if not value:
            raise RecordError(source, 1, name, "missing or empty")
    if not VERSION_ID.fullmatch(vid):
        raise RecordError(source, 1, "version_id", f"{vid[:40]!r} is not PDS4's M.n form (major.minor, e.g. 1.0)")
    obs = root.find("p:Observation_Area", {"p": NS})
    components = {}
    if obs is not None:
        for comp in obs.findall("p:Observing_System/p:Observing_System_Component", {"p": NS}):
            components.setdefault(_text(comp, "p:type"), _text(comp, "p:name"))
    refs = root.find("p:Reference_List/p:External_Reference", {"p": NS})
    cite = ident.find("p:Citation_Information", {"p": NS})
    times = {}
    for name in ("start_date_time", "stop_date_time"):
        times[name] = None if obs is None else _text(obs, f"p:Time_Coordinates/p:{name}")
        if times[name] is not None:
            try:
                parse_utc(times[name])  # PDS4 times are UTC with Z; kept as the label wrote them
            except TimeError as exc:
                raise RecordError(source, 1, name, str(exc)) from None
    return ProductMetadata(
        lid=lid,
        vid=vid,
        title=title,
        product_class=root.tag.split("}")[1],
        start=times["start_date_time"],
        stop=times["stop_date_time"],
        purpose=None if obs is None else _text(obs, "p:Primary_Result_Summary/p:purpose"),
        processing_level=None if obs is None else _text(obs, "p:Primary_Result_Summary/p:processing_level"),
        investigation=None if obs is None else _text(obs, "p:Investigation_Area/p:name"),
        host=components.get("Host") or components.get("Spacecraft"),
        instrument=components.get("Instrument"),
        target=None if obs is None else _text(obs, "p:Target_Identification/p:name"),
        doi=None if refs is None else _text(refs, "p:doi"),
        citation=None if refs is None else _text(refs, "p:reference_text"),
        alternate_ids=tuple(
            " ".join(a.text.split()) for a in ident.findall("p:Alias_List/p:Alias/p:alternate_id", {"p": NS}) if a.text
        ),
        file_names=tuple(" ".join(f.text.split()) for f in root.iter(f"{{{NS}}}file_name") if f.text),
        bounds=_bounds(root, source),
        authors=None if cite is None else _text(cite, "p:author_list"),
        publication_year=None if cite is None else _text(cite, "p:publication_year"),
        dataset_doi=None if cite is None else _text(cite, "p:doi"),
        description=None if cite is None else _text(cite, "p:description"),
    )


def _bounds(root, source: str) -> tuple[float, float, float, float] | None:
    box = next(root.iter(f"{{{CART}}}Bounding_Coordinates"), None)
    if box is None:
        return None
    values = []
    for name in BOUNDS:
        el = box.find(f"{{{CART}}}{name}")
        try:
            values.append(float(el.text))
        except (AttributeError, TypeError, ValueError):
            raise RecordError(source, 1, f"cart:{name}", "missing or not a number") from None
    return (values[0], values[1], values[2], values[3])


def _el(tag: str, value: str | None, indent: str) -> str:
    return "" if value is None else f"{indent}<{tag}>{escape(value)}</{tag}>\n"


def write_label(m: ProductMetadata) -> str:
    """A PDS4 label (common namespace only) carrying every field of ``m``."""
    i2, i3, i4, i5 = "  ", "    ", "      ", "        "
    aliases = "".join(
        f"{i4}<Alias>\n{i5}<alternate_id>{escape(a)}</alternate_id>\n{i4}</Alias>\n" for a in m.alternate_ids
    )
    out = [
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{m.product_class} xmlns="{NS}">\n',
        f"{i2}<Identification_Area>\n",
        _el("logical_identifier", m.lid, i3),
        _el("version_id", m.vid, i3),
        _el("title", m.title, i3),
        _el("information_model_version", "1.22.0.0", i3),
        _el("product_class", m.product_class, i3),
    ]
    if aliases:
        out.append(f"{i3}<Alias_List>\n{aliases}{i3}</Alias_List>\n")
    if m.authors or m.publication_year or m.description or m.dataset_doi:
        out.append(
            f"{i3}<Citation_Information>\n"
            + _el("author_list", m.authors, i4)
            + _el("publication_year", m.publication_year, i4)
            + _el("doi", m.dataset_doi, i4)
            + _el("description", m.description, i4)
            + f"{i3}</Citation_Information>\n"
        )
    out.append(f"{i2}</Identification_Area>\n{i2}<Observation_Area>\n")
    if m.start or m.stop:
        out.append(
            f"{i3}<Time_Coordinates>\n"
            + _el("start_date_time", m.start, i4)
            + _el("stop_date_time", m.stop, i4)
            + f"{i3}</Time_Coordinates>\n"
        )
    if m.purpose or m.processing_level:
        out.append(
            f"{i3}<Primary_Result_Summary>\n"
            + _el("purpose", m.purpose, i4)
            + _el("processing_level", m.processing_level, i4)
            + f"{i3}</Primary_Result_Summary>\n"
        )
    if m.investigation:
        out.append(
            f"{i3}<Investigation_Area>\n"
            + _el("name", m.investigation, i4)
            + _el("type", "Mission", i4)
            + f"{i3}</Investigation_Area>\n"
        )
    if m.host or m.instrument:
        out.append(f"{i3}<Observing_System>\n")
        for kind, name in (("Host", m.host), ("Instrument", m.instrument)):
            if name:
                out.append(
                    f"{i4}<Observing_System_Component>\n"
                    + _el("name", name, i5)
                    + _el("type", kind, i5)
                    + f"{i4}</Observing_System_Component>\n"
                )
        out.append(f"{i3}</Observing_System>\n")
    if m.target:
        out.append(f"{i3}<Target_Identification>\n" + _el("name", m.target, i4) + f"{i3}</Target_Identification>\n")
    if m.bounds is not None:
        i6 = i5 + "  "
        coords = "".join(f'{i6}<cart:{n} unit="deg">{v!r}</cart:{n}>\n' for n, v in zip(BOUNDS, m.bounds, strict=True))
        out.append(
            f'{i3}<Discipline_Area>\n{i4}<cart:Cartography xmlns:cart="{CART}">\n{i5}<cart:Spatial_Domain>\n'
            f"{i5}<cart:Bounding_Coordinates>\n{coords}{i5}</cart:Bounding_Coordinates>\n"
            f"{i5}</cart:Spatial_Domain>\n{i4}</cart:Cartography>\n{i3}</Discipline_Area>\n"
        )
    out.append(f"{i2}</Observation_Area>\n")
    if m.doi or m.citation:
        refs = _el("doi", m.doi, i4) + _el("reference_text", m.citation, i4)
        out.append(
            f"{i2}<Reference_List>\n{i3}<External_Reference>\n{refs}{i3}</External_Reference>\n{i2}</Reference_List>\n"
        )
    for name in m.file_names:
        out.append(
            f"{i2}<File_Area_Observational>\n{i3}<File>\n"
            + _el("file_name", name, i4)
            + f"{i3}</File>\n{i2}</File_Area_Observational>\n"
        )
    out.append(f"</{m.product_class}>\n")
    return "".join(out)


# --- the label as a document: amendments in Modification_History ------------------------------


@dataclass(frozen=True)
class Modification:
    """One PDS4 ``Modification_Detail``: the date (YYYY-MM-DD, UTC), the product version it
    describes and what changed."""

    date: str
    vid: str
    description: str


_HISTORY_END = re.compile(rb"([ \t]*)</(?:[A-Za-z_][\w.-]*:)?Modification_History\s*>")
_LICENSE = re.compile(rb"([ \t]*)<(?:[A-Za-z_][\w.-]*:)?License_Information[\s>]")
_IDENT_END = re.compile(rb"([ \t]*)</(?:[A-Za-z_][\w.-]*:)?Identification_Area\s*>")


def amend_label(original: bytes, changes: list[Modification] | tuple[Modification, ...]) -> bytes:
    """The submitted label with ``changes`` appended as ``Modification_Detail`` entries, every other
    byte as submitted (no changes: the original itself). The entries go at the end of the label's
    ``Modification_History``, or into a new one placed where the PDS4 schema wants it in
    ``Identification_Area`` (before ``License_Information``, else at its end). Only labels in the
    default PDS namespace (no ``pds:`` prefix on the Identification_Area) are amended in place."""
    if not changes:
        return original
    details = "".join(
        "{i}<Modification_Detail>\n{i}  <modification_date>{d}</modification_date>\n"
        "{i}  <version_id>{v}</version_id>\n{i}  <description>{t}</description>\n{i}</Modification_Detail>\n".replace(
            "{d}", escape(c.date)
        )
        .replace("{v}", escape(c.vid))
        .replace("{t}", escape(c.description))
        for c in changes
    )
    end = _HISTORY_END.search(original)
    if end is not None:
        indent = end.group(1).decode() + "  "
        block = details.replace("{i}", indent).encode()
        return original[: end.start()] + block + original[end.start() :]
    anchor = _LICENSE.search(original) or _IDENT_END.search(original)
    if anchor is None:
        raise RecordError("<label.xml>", 1, "Identification_Area", "missing: the label cannot be amended")
    indent = anchor.group(1).decode()
    if anchor.re is _IDENT_END:
        indent += "  "
    block = (
        f"{indent}<Modification_History>\n"
        + details.replace("{i}", indent + "  ")
        + f"{indent}</Modification_History>\n"
    ).encode()
    start = anchor.start()
    return original[:start] + block + original[start:]


# --- bundles and collections ---------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """A member of a bundle (Bundle_Member_Entry) or a collection (an inventory row): a LID, with a
    VID when the reference is a LIDVID; ``status`` is "Primary" or "Secondary"."""

    lid: str
    vid: str | None
    status: str
    reference_type: str | None = None

    @property
    def reference(self) -> str:
        return self.lid if self.vid is None else f"{self.lid}::{self.vid}"


STATUS = {"P": "Primary", "S": "Secondary", "Primary": "Primary", "Secondary": "Secondary"}


def split_reference(ref: str) -> tuple[str, str | None]:
    """``urn:...::1.0`` -> (LID, "1.0"); a LID alone -> (LID, None)."""
    lid, sep, vid = ref.partition("::")
    return lid, (vid if sep else None)


def bundle_members(data: bytes | str, source: str = "<bundle.xml>") -> list[Member]:
    """The Bundle_Member_Entry references of a Product_Bundle label."""
    try:
        root = ET.fromstring(data)
    except (ET.ParseError, DefusedXmlException) as exc:
        raise RecordError(source, 1, "xml", str(exc)) from None
    out = []
    for entry in root.findall("p:Bundle_Member_Entry", {"p": NS}):
        ref = _text(entry, "p:lidvid_reference") or _text(entry, "p:lid_reference")
        status = _text(entry, "p:member_status")
        if not ref or status not in ("Primary", "Secondary"):
            raise RecordError(source, 1, "Bundle_Member_Entry", "needs a lid(vid)_reference and member_status")
        lid, vid = split_reference(ref)
        out.append(Member(lid, vid, status, _text(entry, "p:reference_type")))
    return out


def read_inventory(data: bytes, source: str = "<inventory.csv>") -> list[Member]:
    """A collection inventory (PDS4 Standards Reference 2D.6: two comma-separated fields per record,
    member status P or S, and a LIDVID (primary members) or a LID or LIDVID (secondary members))."""
    out = []
    for n, raw in enumerate(data.decode("ascii", errors="strict").splitlines(), start=1):
        if not raw.strip():
            continue
        fields = [f.strip().strip('"') for f in raw.split(",")]
        if len(fields) != 2 or fields[0] not in ("P", "S") or not fields[1].startswith("urn:"):
            raise RecordError(source, n, "inventory", f"expected 'P|S,<LIDVID>', got {raw[:80]!r}")
        lid, vid = split_reference(fields[1])
        if fields[0] == "P" and vid is None:
            raise RecordError(source, n, "inventory", "a primary member is a LIDVID (LID::VID)")
        out.append(Member(lid, vid, STATUS[fields[0]]))
    return out


def write_inventory(members: list[Member]) -> bytes:
    """An inventory table: ``P,<LIDVID>`` rows with CRLF record delimiters (PDS4 delimited tables)."""
    return "".join(f"{m.status[0]},{m.reference}\r\n" for m in members).encode("ascii")
