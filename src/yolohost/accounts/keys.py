"""API key material: the Platform's shape ``ul_`` + 40 lowercase hex, stored only as SHA-256.

A key carries 160 random bits, so a fast hash is safe (nothing to brute-force) and lets a
lookup be one indexed equality on the hash, whose time does not depend on which keys exist.
"""

from __future__ import annotations

import hashlib
import re
import secrets

KEY_RE = re.compile(r"ul_[0-9a-f]{40}")
PREFIX_LEN = 9  # "ul_" + 6 hex: enough to tell keys apart in a list, useless to an attacker


def generate() -> str:
    return "ul_" + secrets.token_hex(20)


def is_well_formed(key: str) -> bool:
    return KEY_RE.fullmatch(key) is not None


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    return key[:PREFIX_LEN]
