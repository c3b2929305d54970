"""What the account service hands out: roles, users, tokens, the signed-in identity, errors."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "AccountConflict",
    "AccountError",
    "AccountNotFound",
    "Identity",
    "Role",
    "SignInFailed",
    "SignInThrottled",
    "TokenView",
    "UserView",
    "check_name",
    "check_password",
]

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


class AccountError(Exception):
    """An account operation that cannot be done; the message says why and what to do."""

    status_code = 400


class AccountNotFound(AccountError):
    status_code = 404


class AccountConflict(AccountError):
    status_code = 409


class SignInFailed(AccountError):
    status_code = 401


class SignInThrottled(AccountError):
    status_code = 429

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Role(StrEnum):
    """What a person may do: viewers read; operators also request, preview, approve and
    cancel; admins also manage people and the playbook repo."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @classmethod
    def parse(cls, text: str) -> Role:
        """The role named ``text``; raises ``AccountError`` naming the roles there are."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            allowed = ", ".join(role.value for role in cls)
            raise AccountError(f"{text!r} is not a role: use one of {allowed}") from None

    def allows(self, needed: Role) -> bool:
        """Whether this role may do what ``needed`` may."""
        order = list(Role)
        return order.index(self) >= order.index(needed)


@dataclass(frozen=True)
class UserView:
    id: int
    name: str
    role: Role
    created_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": str(self.role),
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class TokenView:
    id: int
    user: str
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.user,
            "name": self.name,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
            "revoked_at": self.revoked_at,
        }


@dataclass(frozen=True)
class Identity:
    """Who a request comes from: a person, signed in by a session cookie or an API token."""

    user_id: int
    name: str
    role: Role
    via: str  # "session" | "token"

    def may(self, needed: Role) -> bool:
        return self.role.allows(needed)


def check_name(name: str) -> str:
    """``name`` stripped; raises ``AccountError`` unless it is a usable account name."""
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise AccountError(
            f"{name[:80]!r} cannot be an account name: use 1 to 64 letters, digits, "
            "'.', '_', '@' or '-', starting with a letter or digit"
        )
    return name


def check_password(password: str) -> str:
    """``password`` as given; raises ``AccountError`` when it is too short or too long."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password is too long: use at most {MAX_PASSWORD} characters")
    return password
