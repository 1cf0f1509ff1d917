"""Jobs that the CLI and the service both run, written once: interfaces -> workflows -> storage/core.

A workflow opens its own short transactions from a session factory, calls the core for the
science and the repositories for the rows, and takes "now" as an argument (an aware UTC
``datetime`` or a clock returning one): no module here reads the wall clock.
"""
