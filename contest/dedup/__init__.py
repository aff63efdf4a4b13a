"""Duplicate detection: fingerprints, vectorised search, local verification, policy."""
