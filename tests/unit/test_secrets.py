import logging
import stat

import pytest

from domain.sealed import Sealed
from infra.config import Config, ConfigError
from infra.secrets import SecretBox, SecretKeyMissing, secret_box

KEY = "a-long-enough-test-key"
NEW_KEY = "another-long-enough-key"


def test_a_sealed_secret_opens_with_its_key_and_hides_its_plaintext():
    box = SecretBox(KEY)
    sealed = box.seal("jurnal-client-secret")
    assert "jurnal-client-secret" not in sealed.ciphertext
    assert "jurnal-client-secret" not in repr(sealed)
    assert sealed.key_id == box.key_id
    assert box.unseal(sealed) == "jurnal-client-secret"


def test_sealing_twice_gives_different_ciphertexts():
    box = SecretBox(KEY)
    assert box.seal("same").ciphertext != box.seal("same").ciphertext


def test_an_old_key_still_opens_what_it_sealed():
    sealed = SecretBox(KEY).seal("token")
    rotated = SecretBox(NEW_KEY, old_keys=[KEY])
    assert rotated.unseal(sealed) == "token"
    assert not rotated.is_current(sealed)
    assert rotated.is_current(rotated.seal("token"))


def test_a_secret_of_a_forgotten_key_names_the_key_it_needs():
    sealed = SecretBox(KEY).seal("token")
    with pytest.raises(SecretKeyMissing, match=sealed.key_id):
        SecretBox(NEW_KEY).unseal(sealed)


def test_a_tampered_secret_does_not_open():
    box = SecretBox(KEY)
    sealed = box.seal("token")
    raw = bytearray(sealed.ciphertext.encode())
    raw[-3] = ord("A") if raw[-3] != ord("A") else ord("B")
    with pytest.raises(SecretKeyMissing, match="altered"):
        box.unseal(Sealed(sealed.key_id, raw.decode()))


def test_a_laptop_install_generates_a_private_key_once_and_says_so(tmp_path, caplog):
    config = Config.from_env({"SAMBUNG_DATA_DIR": str(tmp_path)})
    with caplog.at_level(logging.WARNING, logger="infra.secrets"):
        first = secret_box(config)
    assert "SAMBUNG_SECRET_KEY is not set" in caplog.text
    assert stat.S_IMODE(config.secret_key_path.stat().st_mode) == 0o600
    caplog.clear()
    second = secret_box(config)
    assert second.key_id == first.key_id
    assert caplog.text == ""


def test_postgres_needs_the_key_set():
    config = Config.from_env(
        {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": "x",
         "POSTGRES_HOST": "db"}
    )  # fmt: skip
    with pytest.raises(ConfigError, match="SAMBUNG_SECRET_KEY must be set with PostgreSQL"):
        secret_box(config)


def test_a_short_key_is_refused():
    with pytest.raises(ConfigError, match="at least 16 characters"):
        secret_box(Config.from_env({"SAMBUNG_SECRET_KEY": "short"}))


def test_old_keys_come_from_the_environment_and_stay_out_of_reprs():
    config = Config.from_env(
        {"SAMBUNG_SECRET_KEY": NEW_KEY, "SAMBUNG_OLD_SECRET_KEYS": f"{KEY}, other-old-key-123"}
    )
    assert config.old_secret_keys == (KEY, "other-old-key-123")
    assert KEY not in repr(config) and NEW_KEY not in repr(config)
    assert NEW_KEY not in repr(secret_box(config))
