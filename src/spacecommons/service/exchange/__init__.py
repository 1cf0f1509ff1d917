"""Lunar data exchange routes, one module per resource: missions (and payloads), products, files,
access requests. Every read path asks ``exchange.policy`` and logs its decision; queries live in
``storage.exchange_repo``."""
