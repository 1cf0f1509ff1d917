"""PDS4 label validation: the core XML Schema (lxml) and the Schematron rules (XPath 2.0, elementpath)
of the label's information model version, with the schema files shipped in the package.

Method: the label is parsed once by lxml with a hardened parser (no entities resolved, no network,
no DTD loaded, no huge trees), which keeps each element's line. The XSD of the label's information
model version checks structure and types; the Schematron of the same version checks the rules the
XSD cannot express (e.g. ``Target_Identification`` needs ``type``; ``information_model_version``
equals the schema's). The PDS publishes its Schematron with ``queryBinding="xslt2"`` (XPath 2.0:
``tokenize``, ``eq``, sequences), which libxslt (XSLT 1.0, hence ``lxml.isoschematron``) cannot run,
so the rules are evaluated here with ``elementpath``'s XPath 2.0 engine: for each pattern, each node
its rule's context selects is matched by the first rule of the pattern that selects it (ISO
Schematron 19757-3, 6.5), and every ``assert`` whose test is false is a finding, with the rule's
``title`` as its name and the node's line.

Mission and discipline dictionaries (``lro:``, ``cart:``, ``disp:``...) are not shipped: elements in a
namespace without a shipped schema are taken out of the copy that the XSD checks (they sit in the
core schema's strict wildcards ``Mission_Area``/``Discipline_Area``), and each such namespace is
reported as a warning ("not validated"), never silently passed.

References: PDS4 Standards Reference 1.26 (schema and Schematron of IM 1.26.0.0 = ``1Q00``);
ISO/IEC 19757-3 Schematron; W3C XPath 2.0."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum
from importlib.resources import files

import elementpath
from elementpath import XPath2Parser, XPathContext
from lxml import etree

from ..errors import RecordError

SCH = "http://purl.oclc.org/dsdl/schematron"
PDS = "http://pds.nasa.gov/pds4/pds/v1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

# information model version -> schema file stem (PDS4 naming: 1Q00 = 1.26.0.0; "Q" is 26 in the
# PDS4 version alphabet 0-9A-Z)
SUPPORTED = {"1.26.0.0": "PDS4_PDS_1Q00"}


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One validator message: its severity, the rule (XSD, or the Schematron rule's title), the
    label line (0 when unknown) and the message."""

    severity: Severity
    rule: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: [{self.rule}] {self.message}"


@dataclass(frozen=True)
class Report:
    information_model_version: str | None
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def valid(self) -> bool:
        return not self.errors


def parser() -> etree.XMLParser:
    """The hardened lxml parser for untrusted labels: no entity expansion, no network, no DTD, no huge trees."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False
    )


def parse(data: bytes, source: str = "<label.xml>") -> etree._ElementTree:
    """The label as an lxml tree (lines kept); malformed XML or a DTD raises RecordError with the line."""
    try:
        root = etree.fromstring(data, parser())
    except etree.XMLSyntaxError as exc:
        raise RecordError(source, exc.lineno or 1, "xml", exc.msg) from None
    tree = root.getroottree()
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise RecordError(source, 1, "xml", "refused: DTDs are not accepted in a PDS4 label")
    return tree


# --- Schematron (XPath 2.0) -------------------------------------------------------------------


@dataclass(frozen=True)
class _Assert:
    test: object  # compiled XPath token
    title: str
    severity: Severity  # role="warning" on the rule or the assert: a warning, else an error
    parts: tuple  # message text pieces: str, or a compiled XPath for sch:value-of


@dataclass(frozen=True)
class _Rule:
    context: object
    lets: tuple  # (name, compiled XPath)
    asserts: tuple[_Assert, ...]
    needs: frozenset[str]  # element names the context's path steps name: absent from a label, the rule cannot fire


def _path_names(context: str) -> frozenset[str]:
    """The qualified element names of a context's steps, predicates left out (a name inside a
    predicate such as ``not(pds:x)`` need not be present)."""
    depth, kept = 0, []
    for ch in context:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif depth == 0:
            kept.append(ch)
    return frozenset(re.findall(r"(?<![@\w])([A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*)", "".join(kept)))


class Schematron:
    """Compiled ISO Schematron (XPath 2.0 query binding) for one schema file."""

    def __init__(self, sch: bytes) -> None:
        doc = etree.fromstring(sch, parser())
        self.namespaces = {ns.get("prefix"): ns.get("uri") for ns in doc.iter(f"{{{SCH}}}ns")}
        self.patterns: list[tuple[_Rule, ...]] = []
        for pattern in doc.iter(f"{{{SCH}}}pattern"):
            rules = []
            for rule in pattern.iter(f"{{{SCH}}}rule"):
                context = rule.get("context")
                if not context.startswith("/"):  # an XSLT match pattern: matches at any depth
                    context = "//" + context
                lets = tuple((let.get("name"), self._compile(let.get("value"))) for let in rule.iter(f"{{{SCH}}}let"))
                variables = {name: "" for name, _ in lets}
                asserts = []
                for a in rule.iter(f"{{{SCH}}}assert"):
                    title = a.find(f"{{{SCH}}}title")
                    if title is None:
                        title = a.find("title")
                    parts: list = [a.text or ""]
                    for child in a:
                        if child.tag == f"{{{SCH}}}value-of":
                            parts.append(self._compile(child.get("select"), variables))
                        parts.append(child.tail or "")
                    asserts.append(
                        _Assert(
                            self._compile(a.get("test"), variables),
                            " ".join((title.text or "").split()) if title is not None else "schematron",
                            Severity.WARNING if "warning" in (a.get("role"), rule.get("role")) else Severity.ERROR,
                            tuple(parts),
                        )
                    )
                rules.append(_Rule(self._compile(context), lets, tuple(asserts), _path_names(context)))
            self.patterns.append(tuple(rules))

    def _compile(self, expr: str, variables: dict | None = None):
        p = XPath2Parser(namespaces=self.namespaces, variable_types={k: "item()*" for k in (variables or {})})
        return p.parse(expr)

    def check(self, tree: etree._ElementTree) -> list[Finding]:
        out: list[Finding] = []
        root = elementpath.get_node_tree(tree.getroot())  # built once, shared by every evaluation
        by_uri = {uri: prefix for prefix, uri in self.namespaces.items()}
        present = {
            f"{by_uri[etree.QName(el).namespace]}:{etree.QName(el).localname}"
            for el in tree.getroot().iter()
            if isinstance(el.tag, str) and etree.QName(el).namespace in by_uri
        }
        for rules in self.patterns:
            fired: set = set()  # a node is handled by the first rule of its pattern only
            for rule in rules:
                if not rule.needs <= present:
                    continue
                for node in rule.context.select(XPathContext(root)):
                    key = id(node) if not hasattr(node, "sourceline") else node
                    if key in fired:
                        continue
                    fired.add(key)
                    variables = {}
                    for name, expr in rule.lets:
                        variables[name] = expr.evaluate(XPathContext(root, item=node, variables=dict(variables)))
                    for a in rule.asserts:
                        ctx = XPathContext(root, item=node, variables=variables)
                        if a.test.boolean_value(a.test.evaluate(ctx)):
                            continue
                        out.append(Finding(a.severity, a.title, _line(node), self._message(a, root, node, variables)))
        return out

    @staticmethod
    def _message(a: _Assert, root, node, variables) -> str:
        text = []
        for part in a.parts:
            if isinstance(part, str):
                text.append(part)
            else:
                value = part.evaluate(XPathContext(root, item=node, variables=variables))
                items = value if isinstance(value, list) else [value]
                text.append(" ".join(elementpath.string_value(v) if hasattr(v, "tag") else str(v) for v in items))
        return " ".join("".join(text).split())


def _line(node) -> int:
    for candidate in (node, getattr(node, "parent", None), getattr(node, "elem", None)):
        line = getattr(candidate, "sourceline", None)
        if isinstance(line, int):
            return line
    return 0


# --- the shipped schemas --------------------------------------------------------------------------


@dataclass(frozen=True)
class Pds4Schema:
    version: str
    xsd: etree.XMLSchema
    schematron: Schematron


@functools.cache
def schema(version: str) -> Pds4Schema:
    """The shipped core schema of an information model version (package data, read once)."""
    stem = SUPPORTED[version]
    folder = files("spacecommons") / "data" / "schemas" / "pds4"
    xsd = etree.XMLSchema(etree.fromstring((folder / f"{stem}.xsd").read_bytes(), parser()))
    return Pds4Schema(version, xsd, Schematron((folder / f"{stem}.sch").read_bytes()))


def _without_unknown_namespaces(data: bytes) -> tuple[etree._Element, list[str]]:
    """The label parsed afresh without the elements of namespaces that have no shipped schema (mission
    and discipline dictionaries), and those namespaces. Removing elements leaves the others' source
    lines as parsed, so the XSD's messages name the label's lines."""
    root = etree.fromstring(data, parser())
    unknown: list[str] = []
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        ns = etree.QName(el).namespace
        if ns not in (PDS, None):
            if ns not in unknown:
                unknown.append(ns)
            parent = el.getparent()
            if parent is not None and etree.QName(parent).namespace == PDS:
                parent.remove(el)
    return root, unknown


_IM = re.compile(r"\d+\.\d+\.\d+\.\d+")


def validate_label(data: bytes, source: str = "<label.xml>") -> Report:
    """Validate a PDS4 label against the shipped XSD and Schematron of its information model version.

    A label whose ``information_model_version`` is not shipped gets one error naming the supported
    versions; malformed XML raises RecordError."""
    tree = parse(data, source)
    root = tree.getroot()
    im_el = root.find(f"{{{PDS}}}Identification_Area/{{{PDS}}}information_model_version")
    im = None if im_el is None or im_el.text is None else im_el.text.strip()
    if im not in SUPPORTED:
        return Report(
            im,
            (
                Finding(
                    Severity.ERROR,
                    "information_model_version",
                    0 if im_el is None else im_el.sourceline,
                    f"{im!r} is not a supported PDS4 information model version (supported: {', '.join(SUPPORTED)})",
                ),
            ),
        )
    s = schema(im)
    findings: list[Finding] = []
    stripped, unknown = _without_unknown_namespaces(data)
    for ns in unknown:
        findings.append(
            Finding(Severity.WARNING, "dictionary", 0, f"namespace {ns}: dictionary not shipped, not validated")
        )
    if not s.xsd.validate(stripped):
        for e in s.xsd.error_log:
            findings.append(Finding(Severity.ERROR, "xsd", e.line, e.message))
    findings.extend(s.schematron.check(tree))
    return Report(im, tuple(findings))
