"""Reliability helpers: provenance records for results files and checksum verification."""
from .checksums import file_digest, verify_digest
from .provenance import provenance

__all__ = ["file_digest", "provenance", "verify_digest"]
