"""The account service on SQLite and PostgreSQL, with a clock the test moves."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from chiffon.db import SessionFactory
from chiffon.web.accounts import (
    AccountConflict,
    AccountError,
    AccountNotFound,
    AccountService,
    Role,
    SignInFailed,
    SignInThrottled,
)
from chiffon.web.models import ApiToken, User, WebSession
from tests._router import Clock

PASSWORD = "correct horse battery"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(session_factory: SessionFactory, clock: Clock) -> AccountService:
    return AccountService(session_factory, clock=clock, session_hours=1)


async def test_it_creates_the_first_admin_once(accounts: AccountService) -> None:
    assert await accounts.has_users() is False

    admin = await accounts.create_first_admin("ada", PASSWORD)

    assert (admin.name, admin.role) == ("ada", Role.ADMIN)
    assert await accounts.has_users() is True
    with pytest.raises(AccountConflict, match="set up already"):
        await accounts.create_first_admin("mallory", PASSWORD)
    assert [u.name for u in await accounts.users()] == ["ada"]


async def test_it_lets_one_of_two_simultaneous_set_ups_win(accounts: AccountService) -> None:
    results = await asyncio.gather(
        *(accounts.create_first_admin(name, PASSWORD) for name in ("ada", "bob", "eve", "kim")),
        return_exceptions=True,
    )

    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert len(await accounts.users()) == 1


async def test_it_stores_an_argon2id_hash_not_the_password(
    accounts: AccountService, session_factory: SessionFactory
) -> None:
    await accounts.add_user("ada", Role.OPERATOR, PASSWORD)

    async with session_factory() as session:
        stored = await session.scalar(select(User.password_hash))
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize(
    ("name", "password", "message"),
    [
        ("", PASSWORD, "cannot be an account name"),
        ("<script>", PASSWORD, "cannot be an account name"),
        ("a" * 65, PASSWORD, "cannot be an account name"),
        ("ada", "short", "too short"),
        ("ada", "x" * 1025, "too long"),
    ],
)
async def test_it_refuses_bad_names_and_passwords(
    accounts: AccountService, name: str, password: str, message: str
) -> None:
    with pytest.raises(AccountError, match=message):
        await accounts.add_user(name, Role.VIEWER, password)
    assert await accounts.users() == []


async def test_it_refuses_a_taken_name_and_an_unknown_role(accounts: AccountService) -> None:
    await accounts.add_user("ada", Role.VIEWER, PASSWORD)

    with pytest.raises(AccountConflict, match="already an account named ada"):
        await accounts.add_user("ada", Role.ADMIN, PASSWORD)
    with pytest.raises(AccountError, match="use one of viewer, operator, admin"):
        Role.parse("root")


async def test_it_authenticates_and_says_nothing_about_which_part_was_wrong(
    accounts: AccountService,
) -> None:
    await accounts.add_user("ada", Role.OPERATOR, PASSWORD)

    assert (await accounts.authenticate("ada", PASSWORD, "10.0.0.1")).name == "ada"
    with pytest.raises(SignInFailed, match="wrong name or password") as wrong_password:
        await accounts.authenticate("ada", "not it at all", "10.0.0.1")
    with pytest.raises(SignInFailed, match="wrong name or password") as no_such_user:
        await accounts.authenticate("nobody", PASSWORD, "10.0.0.1")
    assert str(wrong_password.value) == str(no_such_user.value)


async def test_it_throttles_guessing_a_name_until_the_window_passes(
    accounts: AccountService, clock: Clock
) -> None:
    await accounts.add_user("ada", Role.OPERATOR, PASSWORD)
    for _ in range(5):
        with pytest.raises(SignInFailed):
            await accounts.authenticate("ada", "guess", "10.0.0.1")

    # Now even the right password is refused: the guesser cannot tell when they hit it.
    with pytest.raises(SignInThrottled, match="too many failed sign-ins for ada") as throttled:
        await accounts.authenticate("ada", PASSWORD, "10.0.0.2")
    assert 0 < throttled.value.retry_after_s <= 15 * 60

    clock.advance(15 * 60 + 1)
    assert (await accounts.authenticate("ada", PASSWORD, "10.0.0.1")).name == "ada"
    # A success forgets the failures: five more are needed to be throttled again.
    with pytest.raises(SignInFailed):
        await accounts.authenticate("ada", "guess", "10.0.0.1")


async def test_it_throttles_one_address_guessing_many_names(accounts: AccountService) -> None:
    for n in range(20):
        with pytest.raises(SignInFailed):
            await accounts.authenticate(f"user{n}", "guess", "10.0.0.9")

    with pytest.raises(SignInThrottled, match="from this address"):
        await accounts.authenticate("someone", "guess", "10.0.0.9")
    with pytest.raises(SignInFailed):  # another address is not held up
        await accounts.authenticate("someone", "guess", "10.0.0.10")


async def test_it_opens_identifies_expires_and_closes_sessions(
    accounts: AccountService, clock: Clock, session_factory: SessionFactory
) -> None:
    user = await accounts.add_user("ada", Role.VIEWER, PASSWORD)
    token = await accounts.open_session(user.id)

    me = await accounts.identify_session(token)
    assert me is not None and (me.name, me.role, me.via) == ("ada", Role.VIEWER, "session")
    assert await accounts.identify_session(token + "x") is None
    async with session_factory() as session:
        assert token not in str(await session.scalar(select(WebSession.token_hash)))

    clock.advance(3601)  # session_hours=1
    assert await accounts.identify_session(token) is None

    second = await accounts.open_session(user.id)
    await accounts.close_session(second)
    assert await accounts.identify_session(second) is None


async def test_it_ends_sessions_when_the_password_changes(accounts: AccountService) -> None:
    user = await accounts.add_user("ada", Role.VIEWER, PASSWORD)
    token = await accounts.open_session(user.id)

    await accounts.set_password("ada", "a brand new password")

    assert await accounts.identify_session(token) is None
    with pytest.raises(SignInFailed):
        await accounts.authenticate("ada", PASSWORD, "10.0.0.1")
    assert (await accounts.authenticate("ada", "a brand new password", "10.0.0.1")).id == user.id


async def test_it_creates_uses_and_revokes_api_tokens(
    accounts: AccountService, clock: Clock, session_factory: SessionFactory
) -> None:
    await accounts.add_user("ada", Role.OPERATOR, PASSWORD)
    token, view = await accounts.create_token("ada", "backup script")

    assert token.startswith("chf_") and view.name == "backup script"
    me = await accounts.identify_token(token)
    assert me is not None and (me.name, me.role, me.via) == ("ada", Role.OPERATOR, "token")
    [listed] = await accounts.tokens("ada")
    assert listed.last_used_at == clock() and listed.revoked_at is None
    async with session_factory() as session:
        assert token not in str(await session.scalar(select(ApiToken.token_hash)))

    await accounts.revoke_token(view.id)

    assert await accounts.identify_token(token) is None
    with pytest.raises(AccountConflict, match="revoked already"):
        await accounts.revoke_token(view.id)
    assert await accounts.identify_token("chf_made-up") is None
    assert await accounts.identify_token("not even the prefix") is None


async def test_it_lets_only_the_owner_or_an_admin_revoke_a_token(accounts: AccountService) -> None:
    await accounts.add_user("ada", Role.ADMIN, PASSWORD)
    await accounts.add_user("bob", Role.OPERATOR, PASSWORD)
    await accounts.add_user("eve", Role.OPERATOR, PASSWORD)
    _, bobs = await accounts.create_token("bob")
    eve = await accounts.identify_token((await accounts.create_token("eve"))[0])
    ada = await accounts.identify_token((await accounts.create_token("ada"))[0])
    assert eve is not None and ada is not None

    with pytest.raises(AccountNotFound, match=f"no API token {bobs.id} of yours"):
        await accounts.revoke_token(bobs.id, eve)
    await accounts.revoke_token(bobs.id, ada)
    assert (await accounts.tokens("bob"))[0].revoked_at is not None


async def test_it_keeps_the_last_admin(accounts: AccountService) -> None:
    await accounts.create_first_admin("ada", PASSWORD)

    with pytest.raises(AccountConflict, match="ada is the last admin"):
        await accounts.set_role("ada", Role.VIEWER)
    with pytest.raises(AccountConflict, match="ada is the last admin"):
        await accounts.remove_user("ada")

    await accounts.add_user("bob", Role.ADMIN, PASSWORD)
    assert (await accounts.set_role("ada", Role.OPERATOR)).role == Role.OPERATOR


async def test_it_removes_an_account_with_its_sessions_and_tokens(
    accounts: AccountService,
) -> None:
    await accounts.create_first_admin("ada", PASSWORD)
    bob = await accounts.add_user("bob", Role.OPERATOR, PASSWORD)
    session = await accounts.open_session(bob.id)
    token, _ = await accounts.create_token("bob")

    await accounts.remove_user("bob")

    assert await accounts.identify_session(session) is None
    assert await accounts.identify_token(token) is None
    assert await accounts.tokens("bob") == []
    with pytest.raises(AccountNotFound, match="no account named bob"):
        await accounts.get_user("bob")


def test_roles_are_ordered() -> None:
    assert Role.ADMIN.allows(Role.OPERATOR) and Role.OPERATOR.allows(Role.VIEWER)
    assert not Role.VIEWER.allows(Role.OPERATOR) and not Role.OPERATOR.allows(Role.ADMIN)
