"""Media types of exchanged files: what an uploader declares is stored normalised, and a download
names it only when a browser cannot run it (an allowlist); anything else is served as
``application/octet-stream``.

An uploader chooses the ``Content-Type`` of its files. Served back as given, ``text/html``,
``image/svg+xml`` or ``application/xhtml+xml`` would run the uploader's script in the service's
origin for every partner who opens the link (stored XSS). The allowlist holds types that browsers
display without running script; downloads also carry ``Content-Disposition: attachment``, and the
service's ``X-Content-Type-Options: nosniff`` stops a browser guessing a type of its own.
"""

from __future__ import annotations

import re

OCTET_STREAM = "application/octet-stream"

# Types a browser renders without script (images, PDF, plain text and tables) and science formats
# that browsers do not render at all. Never text/html, image/svg+xml, any XML or JavaScript type.
SERVED_AS_DECLARED = frozenset(
    {
        "application/pdf",
        "application/fits",  # RFC 4047
        "image/fits",  # RFC 4047
        "image/gif",
        "image/jpeg",
        "image/png",
        "image/tiff",
        "text/csv",
        "text/plain",
    }
)

_TOKEN = r"[A-Za-z0-9!#$&^_.+-]{1,63}"  # RFC 6838 section 4.2 restricted-name
_MEDIA_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}")


def normalise(declared: str | None) -> str:
    """The declared ``Content-Type`` as ``type/subtype`` in lower case, parameters dropped;
    ``application/octet-stream`` when absent or not a media type.

    >>> normalise("Image/PNG; charset=binary"), normalise("text/html\\r\\nX: y"), normalise(None)
    ('image/png', 'application/octet-stream', 'application/octet-stream')
    """
    bare = (declared or "").split(";", 1)[0].strip()
    return bare.lower() if _MEDIA_TYPE.fullmatch(bare) else OCTET_STREAM


def served(stored: str) -> str:
    """The ``Content-Type`` a download is served with: the stored type if it is on the allowlist,
    ``application/octet-stream`` otherwise.

    >>> served("image/png"), served("text/html"), served("image/svg+xml")
    ('image/png', 'application/octet-stream', 'application/octet-stream')
    """
    kind = normalise(stored)
    return kind if kind in SERVED_AS_DECLARED else OCTET_STREAM
