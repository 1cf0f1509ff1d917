"""``spacecommons federation``: this node's key, its peers, and pulling their feeds."""

from __future__ import annotations

import typer

from .common import DatabaseOption, open_db, say, utc_now

federation_app = typer.Typer(
    help="Federation with other nodes: node key, peers, and mirroring their products.", no_args_is_help=True
)

DataDirOption = typer.Option(None, "--data-dir", help="the data directory (default: SPACECOMMONS_DATA_DIR)")


def _data_dir(data_dir: str | None) -> str:
    from ..config import Settings

    return data_dir or Settings().data_dir


@federation_app.command("key")
def key(data_dir: str | None = DataDirOption) -> None:
    """Print this node's Ed25519 public key (made on first use, beside the data directory)."""
    from ..exchange.federation import public_key_text
    from ..workflows.federation import node_key

    typer.echo(public_key_text(node_key(_data_dir(data_dir))))


# A URL-safe base64 key may begin with "-": such an argument is taken as the key, not an option.
@federation_app.command("add-peer", context_settings={"ignore_unknown_options": True})
def add_peer(
    url: str,
    key: str,
    as_partner: str | None = typer.Option(
        None, "--as", help="the local partner this peer's requests act as (made if missing)"
    ),
    database_url: str | None = DatabaseOption,
) -> None:
    """Register a peer node by URL and public key (the key compared out of band)."""
    from ..errors import InputError
    from ..exchange.federation import check_public_key
    from ..storage import federation_repo

    if not url.startswith(("http://", "https://")):
        raise InputError(f"URL: {url!r} is not an http(s) URL")
    public = check_public_key(key)
    _, maker = open_db(database_url)
    with maker.begin() as session:
        try:
            peer = federation_repo.add_peer(session, url.rstrip("/"), public, as_partner, utc_now())
        except ValueError as exc:
            raise InputError(str(exc)) from None
        say(f"peer {peer.id}: {peer.url}")


@federation_app.command("sync")
def sync(
    url: str | None = typer.Argument(None, help="one peer's URL (default: every peer)"),
    page_size: int = typer.Option(200, min=1, max=1000, help="products per feed page (one transaction each)"),
    data_dir: str | None = DataDirOption,
    database_url: str | None = DatabaseOption,
) -> None:
    """Mirror the peers' products: verified, staged, committed page by page (resumable)."""
    from ..errors import InputError
    from ..exchange.blobs import BlobStore
    from ..storage import federation_repo
    from ..workflows import federation as flow

    _, maker = open_db(database_url)
    d = _data_dir(data_dir)
    with maker() as session:
        peers = [(p.id, p.url) for p in federation_repo.peers(session) if url is None or p.url == url.rstrip("/")]
    if not peers:
        raise InputError(f"no peer {url}" if url else "no peers: add one with `spacecommons federation add-peer`")
    blobs, private = BlobStore(d), flow.node_key(d)
    for peer_id, peer_url in peers:
        r = flow.sync_peer(maker, blobs, private, peer_id, flow.httpx_transport(), utc_now, page_size=page_size)
        say(f"{peer_url}: {r.products} products, {r.files} files, {r.bytes} bytes in {r.pages} pages")
