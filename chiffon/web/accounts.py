"""AccountService: people and roles, sign-in with throttling, browser sessions, API tokens.

Passwords are argon2id hashes (``passwords.py``), hashed and checked on a worker thread so a
sign-in never holds the event loop. Session and API tokens are random and stored as sha256.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import math
import secrets
from collections.abc import Callable

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chiffon.db import SessionFactory, utcnow
from chiffon.web._account_types import (
    AccountConflict,
    AccountError,
    AccountNotFound,
    Identity,
    Role,
    SignInFailed,
    SignInThrottled,
    TokenView,
    UserView,
    check_name,
    check_password,
)
from chiffon.web.models import ApiToken, LoginFailure, User, WebSession
from chiffon.web.passwords import hash_password, needs_rehash, verify_password

__all__ = [
    "TOKEN_PREFIX",
    "AccountConflict",
    "AccountError",
    "AccountNotFound",
    "AccountService",
    "Identity",
    "Role",
    "SignInFailed",
    "SignInThrottled",
    "TokenView",
    "UserView",
]

TOKEN_PREFIX = "chf_"
_TOKEN_TOUCH_S = 60.0  # last_used_at is written at most this often per token


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user_view(user: User) -> UserView:
    return UserView(user.id, user.name, Role(user.role), user.created_at)


class AccountService:
    def __init__(
        self,
        sessions: SessionFactory,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        session_hours: float = 14 * 24,
        max_failures: int = 5,
        max_address_failures: int = 20,
        failure_window_s: float = 15 * 60,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._session_life = dt.timedelta(hours=session_hours)
        self._max_failures = max_failures
        self._max_address_failures = max_address_failures
        self._window = dt.timedelta(seconds=failure_window_s)
        self._has_users = False  # once true it stays true: the last admin cannot be removed
        self._dummy_hash: str | None = None

    @property
    def session_seconds(self) -> int:
        """How long a new session lasts (the cookie's max-age)."""
        return int(self._session_life.total_seconds())

    # -- people -----------------------------------------------------------------------------

    async def has_users(self) -> bool:
        """Whether any account exists (before the first, the web app offers set-up only)."""
        if not self._has_users:
            async with self._sessions() as session:
                self._has_users = bool(await session.scalar(select(func.count(User.id))))
        return self._has_users

    async def create_first_admin(self, name: str, password: str) -> UserView:
        """The first account, an admin; raises ``AccountConflict`` once any account exists."""
        name, password_hash = await self._checked(name, password)
        async with self._sessions() as session, session.begin():
            if session.get_bind().dialect.name == "postgresql":
                # Two set-up forms sent at once: the second waits here, then sees the first.
                await session.execute(text("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"))
            if await session.scalar(select(func.count(User.id))):
                raise AccountConflict("Chiffon is set up already: sign in instead")
            user = User(name=name, role=Role.ADMIN.value, password_hash=password_hash)
            session.add(user)
            await session.flush()
            # SQLite reads the count above outside the write transaction: two set-ups can
            # both see none. Their inserts are serialized, so the second one counts two here
            # and rolls back.
            if await session.scalar(select(func.count(User.id))) != 1:
                raise AccountConflict("Chiffon is set up already: sign in instead")
        self._has_users = True
        return _user_view(user)

    async def add_user(self, name: str, role: Role, password: str) -> UserView:
        """A new account; raises ``AccountError`` (bad name or password) or
        ``AccountConflict`` (the name is taken)."""
        name, password_hash = await self._checked(name, password)
        try:
            async with self._sessions() as session, session.begin():
                user = User(name=name, role=role.value, password_hash=password_hash)
                session.add(user)
        except IntegrityError:
            raise AccountConflict(f"there is already an account named {name}") from None
        self._has_users = True
        return _user_view(user)

    async def users(self) -> list[UserView]:
        async with self._sessions() as session:
            rows = await session.scalars(select(User).order_by(User.name))
            return [_user_view(user) for user in rows]

    async def get_user(self, name: str) -> UserView:
        """The account named ``name``; raises ``AccountNotFound``."""
        async with self._sessions() as session:
            return _user_view(await self._user(session, name))

    async def set_role(self, name: str, role: Role) -> UserView:
        """Give ``name`` another role; the last admin cannot stop being one."""
        async with self._sessions() as session, session.begin():
            user = await self._user(session, name)
            if user.role == Role.ADMIN and role != Role.ADMIN:
                await self._keep_an_admin(session, user)
            user.role = role.value
        return _user_view(user)

    async def set_password(self, name: str, password: str) -> None:
        """A new password for ``name``; the account's browser sessions end (tokens stay)."""
        password_hash = await asyncio.to_thread(hash_password, check_password(password))
        async with self._sessions() as session, session.begin():
            user = await self._user(session, name)
            user.password_hash = password_hash
            user.password_changed_at = self._clock()
            await session.execute(delete(WebSession).where(WebSession.user_id == user.id))

    async def remove_user(self, name: str) -> None:
        """Delete ``name`` with its sessions and tokens; the last admin cannot be removed."""
        async with self._sessions() as session, session.begin():
            user = await self._user(session, name)
            if user.role == Role.ADMIN:
                await self._keep_an_admin(session, user)
            await session.execute(delete(WebSession).where(WebSession.user_id == user.id))
            await session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
            await session.delete(user)

    # -- signing in -------------------------------------------------------------------------

    async def authenticate(self, name: str, password: str, address: str) -> UserView:
        """The account whose name and password these are.

        Raises ``SignInThrottled`` after too many failures for the name or from the address
        in the window (checked before the password, so guessing stops), ``SignInFailed``
        for a wrong name or password (the same message for both).
        """
        name = name.strip()[:64]
        address = address[:64]
        now = self._clock()
        async with self._sessions() as session:
            await self._refuse_if_throttled(session, name, address, now)
            user = await session.scalar(select(User).where(User.name == name))
        if user is None:
            # As slow as a real check, so timing does not tell which names exist.
            await asyncio.to_thread(verify_password, await self._dummy(), password)
            ok = False
        else:
            ok = await asyncio.to_thread(verify_password, user.password_hash, password)
        if not ok:
            async with self._sessions() as session, session.begin():
                session.add(LoginFailure(name=name, address=address, at=now))
                old = LoginFailure.at < now - self._window
                await session.execute(delete(LoginFailure).where(old))
            raise SignInFailed("wrong name or password")
        assert user is not None
        async with self._sessions() as session, session.begin():
            await session.execute(delete(LoginFailure).where(LoginFailure.name == name))
            if needs_rehash(user.password_hash):
                new_hash = await asyncio.to_thread(hash_password, password)
                await session.execute(
                    update(User).where(User.id == user.id).values(password_hash=new_hash)
                )
        return _user_view(user)

    async def open_session(self, user_id: int) -> str:
        """A new browser session for the account; returns its token (the cookie's value)."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        async with self._sessions() as session, session.begin():
            session.add(
                WebSession(
                    token_hash=_digest(token),
                    user_id=user_id,
                    created_at=now,
                    expires_at=now + self._session_life,
                )
            )
            await session.execute(delete(WebSession).where(WebSession.expires_at < now))
        return token

    async def identify_session(self, token: str) -> Identity | None:
        """Who holds this session token; None when it is unknown, ended or expired."""
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(User.id, User.name, User.role)
                    .join(WebSession, WebSession.user_id == User.id)
                    .where(
                        WebSession.token_hash == _digest(token),
                        WebSession.expires_at > self._clock(),
                    )
                )
            ).first()
        return None if row is None else Identity(row[0], row[1], Role(row[2]), "session")

    async def close_session(self, token: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))

    # -- API tokens -------------------------------------------------------------------------

    async def create_token(self, user_name: str, label: str = "") -> tuple[str, TokenView]:
        """A new API token for ``user_name``: the token (shown once, stored hashed) and its
        record; raises ``AccountNotFound``."""
        label = label.strip()[:100] or "token"
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        async with self._sessions() as session, session.begin():
            user = await self._user(session, user_name)
            row = ApiToken(
                user_id=user.id, name=label, token_hash=_digest(token), created_at=self._clock()
            )
            session.add(row)
        return token, TokenView(row.id, user.name, row.name, row.created_at, None, None)

    async def tokens(self, user_name: str | None = None) -> list[TokenView]:
        """API tokens (newest first), every account's or ``user_name``'s only."""
        query = select(ApiToken, User.name).join(User, User.id == ApiToken.user_id)
        if user_name is not None:
            query = query.where(User.name == user_name)
        async with self._sessions() as session:
            rows = await session.execute(query.order_by(ApiToken.id.desc()))
            return [
                TokenView(t.id, name, t.name, t.created_at, t.last_used_at, t.revoked_at)
                for t, name in rows
            ]

    async def revoke_token(self, token_id: int, by: Identity | None = None) -> None:
        """Revoke token ``token_id``. ``by`` (None: the CLI) may revoke its own tokens, or
        anyone's when an admin; raises ``AccountNotFound`` or ``AccountConflict``."""
        async with self._sessions() as session, session.begin():
            row = await session.get(ApiToken, token_id)
            mine = (
                by is None or by.may(Role.ADMIN) or (row is not None and row.user_id == by.user_id)
            )
            if row is None or not mine:
                raise AccountNotFound(f"there is no API token {token_id} of yours")
            if row.revoked_at is not None:
                raise AccountConflict(f"API token {token_id} is revoked already")
            row.revoked_at = self._clock()

    async def identify_token(self, token: str) -> Identity | None:
        """Who holds this API token; None when it is unknown or revoked."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        now = self._clock()
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(ApiToken.id, ApiToken.last_used_at, User.id, User.name, User.role)
                    .join(User, User.id == ApiToken.user_id)
                    .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None))
                )
            ).first()
            if row is None:
                return None
            token_id, last_used, user_id, name, role = row
            if last_used is None or (now - last_used).total_seconds() > _TOKEN_TOUCH_S:
                await session.execute(
                    update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
                )
                await session.commit()
        return Identity(user_id, name, Role(role), "token")

    # -- helpers ----------------------------------------------------------------------------

    async def _checked(self, name: str, password: str) -> tuple[str, str]:
        name = check_name(name)
        return name, await asyncio.to_thread(hash_password, check_password(password))

    async def _user(self, session: AsyncSession, name: str) -> User:
        user = await session.scalar(select(User).where(User.name == name.strip()))
        if user is None:
            raise AccountNotFound(f"there is no account named {name.strip()[:64]}")
        return user

    async def _keep_an_admin(self, session: AsyncSession, user: User) -> None:
        admins = await session.scalar(
            select(func.count(User.id)).where(User.role == Role.ADMIN.value, User.id != user.id)
        )
        if not admins:
            raise AccountConflict(
                f"{user.name} is the last admin: make another account an admin first"
            )

    async def _refuse_if_throttled(
        self, session: AsyncSession, name: str, address: str, now: dt.datetime
    ) -> None:
        since = now - self._window
        for column, value, limit, what in (
            (LoginFailure.name, name, self._max_failures, f"for {name}"),
            (LoginFailure.address, address, self._max_address_failures, "from this address"),
        ):
            count, oldest = (
                await session.execute(
                    select(func.count(LoginFailure.id), func.min(LoginFailure.at)).where(
                        column == value, LoginFailure.at >= since
                    )
                )
            ).one()
            if count >= limit:
                wait = max(1, math.ceil((oldest + self._window - now).total_seconds()))
                minutes = math.ceil(wait / 60)
                raise SignInThrottled(
                    f"too many failed sign-ins {what}: try again in {minutes} min",
                    retry_after_s=wait,
                )

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await asyncio.to_thread(hash_password, secrets.token_hex(16))
        return self._dummy_hash
