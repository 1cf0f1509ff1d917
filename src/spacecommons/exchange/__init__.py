"""Lunar data exchange: PDS4-style products, content-addressed files, embargo and access policy."""
