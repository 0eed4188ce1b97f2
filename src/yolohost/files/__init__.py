"""Signed downloads of stored files."""
