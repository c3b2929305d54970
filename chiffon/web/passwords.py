"""The argon2 adapter: the only file that imports argon2-cffi.

Parameters are OWASP's first recommendation for argon2id (19 MiB, 2 passes, 1 lane): about
30 ms per hash here, so a sign-in stays quick while a stolen hash stays expensive to guess.
A hash made with other parameters still verifies (they are encoded in it) and is renewed on
the next sign-in.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["hash_password", "needs_rehash", "verify_password"]

_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (with its own random salt)."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` is the one ``password_hash`` was made from."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's."""
    return _HASHER.check_needs_rehash(password_hash)
