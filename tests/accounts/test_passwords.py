"""Password hashing: argon2id with the library's RFC 9106 parameters (the real costs, no test shortcut)."""

from __future__ import annotations

from argon2 import PasswordHasher

from accounts.passwords import (
    dummy_verify,
    hash_password,
    needs_rehash,
    verify_password,
)


def test_a_hash_is_argon2id_with_the_rfc_9106_low_memory_costs_and_verifies_only_its_password():
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "correct horse battery" not in stored
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")
    assert not verify_password(stored, "")


def test_the_same_password_hashes_differently_each_time():
    assert hash_password("correct horse battery") != hash_password("correct horse battery")


def test_a_hash_made_with_cheaper_costs_needs_rehash_and_todays_does_not():
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("correct horse battery")
    assert verify_password(weak, "correct horse battery")
    assert needs_rehash(weak)
    assert not needs_rehash(hash_password("correct horse battery"))


def test_a_malformed_or_foreign_hash_never_matches_and_needs_rehash():
    for stored in ("", "plaintext", "$2b$12$abcdefghijklmnopqrstuuJ0bB1pq2Zk4d4hQ6e0rW0Yk6n7oV5nK"):
        assert not verify_password(stored, "plaintext")
        assert needs_rehash(stored)


def test_an_overlong_password_is_refused_without_error():
    stored = hash_password("x" * 10)
    assert not verify_password(stored, "x" * 10_000)


def test_dummy_verify_runs_a_real_argon2_verification(monkeypatch):
    from accounts import passwords

    calls = []
    real = passwords._hasher()

    class Counting:
        def verify(self, stored, password):
            calls.append(stored)
            return real.verify(stored, password)

        def hash(self, password):
            return real.hash(password)

    monkeypatch.setattr(passwords, "_hasher", lambda: Counting())
    dummy_verify("anything at all")
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")
