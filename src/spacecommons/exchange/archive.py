"""PDS4 archives: where each label and file of a bundle goes, the checksum manifest, and DataCite
metadata of a bundle or collection (pure functions; the workflow reads and writes the files).

Layout of an exported bundle (PDS4 Standards Reference 1.26, 2B "Bundle and collection directory
structure"): the bundle label at the root; each collection in a directory named by its collection
ID with its label and inventory; each primary product of a collection in a directory named by its
product ID inside the collection's, with its data files beside its label (a PDS4 ``file_name`` is
relative to its label's directory). A label imported from an archive keeps the path it had there.
The checksum manifest lists the MD5 of every file, one ``<md5>  <path>`` line each, the form PDS
``validate --checksum-manifest`` reads."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import RecordError

MANIFEST = "checksum_manifest.md5"
LID = re.compile(r"urn:[a-z0-9._-]+:[a-z0-9._-]+(?::[a-z0-9._-]+){1,3}")
_SEGMENT = re.compile(r"[A-Za-z0-9._-]{1,255}")


def lid_segments(lid: str) -> list[str]:
    """``urn:nasa:pds:bundle[:collection[:product]]`` -> [bundle, collection?, product?]."""
    if not LID.fullmatch(lid):
        raise RecordError("<lid>", 1, "logical_identifier", f"{lid[:80]!r} is not a PDS4 LID")
    return lid.split(":")[3:]


def default_label_path(lid: str, product_class: str) -> str:
    """Where a label goes in its bundle when it did not come from an archive."""
    parts = lid_segments(lid)
    if product_class == "Product_Bundle":
        return f"bundle_{parts[0]}.xml"
    if product_class == "Product_Collection":
        return f"{parts[1]}/collection_{parts[1]}.xml"
    if len(parts) < 3:
        raise RecordError("<lid>", 1, "logical_identifier", f"{lid}: a basic product's LID has a product ID")
    return f"{parts[1]}/{parts[2]}/{parts[2]}.xml"


def beside(label_path: str, file_name: str) -> str:
    """The archive path of a file named in a label: in the label's directory."""
    if not _SEGMENT.fullmatch(file_name) or file_name in (".", ".."):
        raise RecordError(label_path, 1, "file_name", f"{file_name[:80]!r} is not a plain file name")
    head, _, _ = label_path.rpartition("/")
    return f"{head}/{file_name}" if head else file_name


def safe_relative(path: str) -> str:
    """A relative archive path of plain segments (no absolute path, no '..', no empty segment)."""
    parts = path.split("/")
    if path.startswith("/") or any(not _SEGMENT.fullmatch(p) or p in (".", "..") for p in parts):
        raise RecordError(path, 1, "path", "archive paths are relative, of letters, digits, '.', '_', '-'")
    return path


def manifest(md5_by_path: dict[str, str]) -> bytes:
    """The checksum manifest: ``<md5>  <path>`` lines, sorted by path, LF-terminated."""
    return "".join(f"{md5_by_path[p]}  {p}\n" for p in sorted(md5_by_path)).encode("ascii")


def read_manifest(data: bytes, source: str = MANIFEST) -> dict[str, str]:
    out: dict[str, str] = {}
    for n, line in enumerate(data.decode("ascii").splitlines(), start=1):
        if not line.strip():
            continue
        md5, _, path = line.strip().partition(" ")
        path = path.strip()
        if not re.fullmatch(r"[0-9a-f]{32}", md5.lower()) or not path:
            raise RecordError(source, n, "manifest", "expected '<md5>  <path>'")
        out[safe_relative(path)] = md5.lower()
    return out


@dataclass(frozen=True)
class Citation:
    """What a DataCite record of a bundle or collection says."""

    doi: str
    lidvid: str
    title: str
    publisher: str  # the partner that registered the DOI
    publication_year: str
    licence: str
    description: str | None = None
    creators: tuple[str, ...] = ()
    members: tuple[str, ...] = ()  # LID(VID)s of the members (HasPart)


# SPDX identifiers of the licences partners use, and their canonical URLs (spdx.org/licenses)
LICENCE_URLS = {
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/legalcode",
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/legalcode",
    "CC-BY-SA-4.0": "https://creativecommons.org/licenses/by-sa/4.0/legalcode",
}


def datacite(c: Citation) -> dict:
    """DataCite Metadata Schema 4.5 as the DataCite REST API's JSON (``data.attributes``), for a PDS4
    bundle or collection: resource type Dataset, the LIDVID as an alternate identifier, members as
    ``HasPart`` related identifiers (type URN)."""
    rights = {"rights": c.licence, "rightsIdentifier": c.licence, "rightsIdentifierScheme": "SPDX"}
    if c.licence in LICENCE_URLS:
        rights["rightsUri"] = LICENCE_URLS[c.licence]
    attributes: dict = {
        "doi": c.doi,
        "identifiers": [{"identifier": f"https://doi.org/{c.doi}", "identifierType": "DOI"}],
        "alternateIdentifiers": [{"alternateIdentifier": c.lidvid, "alternateIdentifierType": "PDS4 LIDVID"}],
        "titles": [{"title": c.title}],
        "creators": [{"name": name} for name in (c.creators or (c.publisher,))],
        "publisher": {"name": c.publisher},
        "publicationYear": c.publication_year,
        "types": {"resourceTypeGeneral": "Dataset", "resourceType": "PDS4 archive"},
        "rightsList": [rights],
        "relatedIdentifiers": [
            {"relatedIdentifier": m, "relatedIdentifierType": "URN", "relationType": "HasPart"} for m in c.members
        ],
        "schemaVersion": "http://datacite.org/schema/kernel-4",
    }
    if c.description:
        attributes["descriptions"] = [{"description": c.description, "descriptionType": "Abstract"}]
    return {"data": {"type": "dois", "attributes": attributes}}


def citation_text(
    authors: str | None, year: str | None, title: str, publisher: str, lidvid: str, doi: str | None
) -> str:
    """A human citation (DataCite's recommended form: Creator (Year). Title. Publisher. Identifier)."""
    who = authors or publisher
    ident = f"https://doi.org/{doi}" if doi else lidvid
    return f"{who} ({year or 'n.d.'}). {title}. {publisher}. {ident}"
