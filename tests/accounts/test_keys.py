"""Key material: the Platform's shape, hashing, and that only the hash and a prefix are stored."""

import re

from sqlalchemy import select

from yolohost.accounts import keys, service
from yolohost.db.engine import transaction
from yolohost.db.tables import ApiKey


def test_generated_keys_have_the_platform_shape_and_differ():
    made = {keys.generate() for _ in range(200)}
    assert len(made) == 200
    assert all(re.fullmatch(r"ul_[0-9a-f]{40}", k) for k in made)


def test_well_formed_accepts_only_the_platform_shape():
    good = "ul_" + "a1" * 20
    assert keys.is_well_formed(good)
    for bad in ["", "ul_", good.upper(), good[:-1], good + "0", "xx_" + "a1" * 20, "ul_" + "g" * 40, " " + good]:
        assert not keys.is_well_formed(bad), bad


def test_digest_is_sha256_hex_and_stable():
    key = keys.generate()
    assert keys.digest(key) == keys.digest(key)
    assert re.fullmatch(r"[0-9a-f]{64}", keys.digest(key))
    assert keys.digest(key) != keys.digest(keys.generate())


def test_only_hash_and_prefix_are_stored(app, client):
    with transaction(app.state.sessions) as session:
        user = service.create_user(session, "carol")
        key, plaintext = service.create_key(session, user, "ci", ["models"])
    with transaction(app.state.sessions) as session:
        row = session.scalar(select(ApiKey).where(ApiKey.id == key.id))
        stored = [str(v) for v in (row.id, row.name, row.key_hash, row.key_prefix, row.scopes)]
    assert row.key_hash == keys.digest(plaintext)
    assert row.key_prefix == plaintext[:9] and row.key_prefix.startswith("ul_")
    assert all(plaintext not in value and plaintext[3:] not in value for value in stored)
    assert row.scopes == ["models"]
