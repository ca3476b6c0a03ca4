"""user_register and user_profile_change against the fake unit of work."""

from __future__ import annotations

import pytest

from command_service.domain.actors import Actor
from command_service.domain.errors import Conflict, NotFound, PermissionDenied, StaleVersion, ValidationFailed
from command_service.domain.users import User
from command_service.services.unit_of_work import Written
from command_service.services.users import user_profile_change, user_register
from events.envelope import encode
from events.types import UserProfileChanged, UserRegistered
from tests.unit.command_service.fakes import FakeUnitOfWork
from tests.unit.command_service.scenario import PASSWORD, only_event

AVATAR = "https://cdn.example.com/avatars/alice.png"


def register(uow: FakeUnitOfWork, **overrides: str) -> Written:
    fields = {"username": "alice", "password": PASSWORD, "display_name": "Alice A.", **overrides}
    return user_register(**fields, uow=uow)


# Registering.


def test_register_stores_the_user_and_emits_user_registered(uow: FakeUnitOfWork) -> None:
    written = register(uow, display_name="  Alice A.  ")

    assert written == Written("user", written.aggregate_id, 1)
    assert uow.users.get(written.aggregate_id) == User(written.aggregate_id, "alice", "Alice A.", None, "", False, 1)
    event = only_event(uow)
    assert (event.event_type, event.aggregate_type) == ("user.registered", "user")
    assert (event.aggregate_id, event.aggregate_version) == (str(written.aggregate_id), 1)
    assert event.payload == UserRegistered(
        user_id=str(written.aggregate_id), username="alice", display_name="Alice A.", avatar_url=None, bio=""
    )


def test_the_password_never_leaves_in_an_event(uow: FakeUnitOfWork) -> None:
    register(uow)

    assert PASSWORD.encode() not in encode(only_event(uow))


def test_each_registration_gets_a_new_id(uow: FakeUnitOfWork) -> None:
    first, second = register(uow, username="alice"), register(uow, username="bob")

    assert first.aggregate_id != second.aggregate_id
    assert [event.aggregate_id for event in uow.outbox] == [str(first.aggregate_id), str(second.aggregate_id)]


@pytest.mark.parametrize("username", ["abc", "a" * 30, "Under_Score_9", "123"])
def test_valid_usernames(uow: FakeUnitOfWork, username: str) -> None:
    assert register(uow, username=username).version == 1


@pytest.mark.parametrize(
    "username",
    ["", "ab", "a" * 31, "has space", "dash-name", "dot.name", "émile", "alice\n", " alice", "alice@example.com"],
)
def test_invalid_usernames(uow: FakeUnitOfWork, username: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        register(uow, username=username)

    assert caught.value.fields == {"username": ["must be 3 to 30 letters, digits or underscores"]}
    assert uow.committed_state() == FakeUnitOfWork().committed_state()


@pytest.mark.parametrize("taken", ["alice", "ALICE", "Alice"])
def test_a_username_is_taken_whatever_its_case(uow: FakeUnitOfWork, taken: str) -> None:
    register(uow, username="alice")
    uow.outbox.clear()
    before = uow.committed_state()

    with pytest.raises(Conflict) as caught:
        register(uow, username=taken)

    assert caught.value.fields == {"username": ["is taken"]}
    assert uow.committed_state() == before


@pytest.mark.parametrize("password", ["12345a78", "eight ch", "a much longer passphrase"])
def test_valid_passwords(uow: FakeUnitOfWork, password: str) -> None:
    assert register(uow, password=password).version == 1


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "must be at least 8 characters"),
        ("seven!!", "must be at least 8 characters"),
        ("12345678", "must not be only digits"),
        ("123456789012", "must not be only digits"),
    ],
)
def test_invalid_passwords(uow: FakeUnitOfWork, password: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        register(uow, password=password)

    assert caught.value.fields == {"password": [message]}
    assert uow.outbox == []


@pytest.mark.parametrize(
    ("display_name", "message"),
    [("", "must not be blank"), ("   ", "must not be blank"), ("x" * 81, "must be at most 80 characters (got 81)")],
)
def test_invalid_display_names_at_registration(uow: FakeUnitOfWork, display_name: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        register(uow, display_name=display_name)

    assert caught.value.fields == {"display_name": [message]}


def test_a_display_name_of_80_characters_is_allowed(uow: FakeUnitOfWork) -> None:
    written = register(uow, display_name="x" * 80)

    assert uow.users.get(written.aggregate_id).display_name == "x" * 80


def test_every_broken_field_is_reported_at_once(uow: FakeUnitOfWork) -> None:
    with pytest.raises(ValidationFailed) as caught:
        register(uow, username="a", password="1", display_name="")

    assert set(caught.value.fields) == {"username", "password", "display_name"}


# Changing a profile.


@pytest.fixture
def alice_id(uow: FakeUnitOfWork) -> int:
    user_id = register(uow).aggregate_id
    uow.outbox.clear()
    return user_id


def change(uow: FakeUnitOfWork, user_id: int, *, actor_id: int | None = None, **fields: object) -> Written:
    actor = Actor(user_id if actor_id is None else actor_id)
    return user_profile_change(user_id=user_id, actor=actor, **fields, uow=uow)


def test_change_profile_stores_it_and_emits_the_full_new_profile(uow: FakeUnitOfWork, alice_id: int) -> None:
    written = change(uow, alice_id, display_name=" Alice Liddell ", avatar_url=AVATAR, bio="  Down the hole. ")

    assert written == Written("user", alice_id, 2)
    assert uow.users.get(alice_id) == User(alice_id, "alice", "Alice Liddell", AVATAR, "  Down the hole. ", False, 2)
    event = only_event(uow)
    assert (event.event_type, event.aggregate_id, event.aggregate_version) == ("user.profile_changed", str(alice_id), 2)
    assert event.payload == UserProfileChanged(
        user_id=str(alice_id), display_name="Alice Liddell", avatar_url=AVATAR, bio="  Down the hole. "
    )


def test_fields_left_out_keep_their_values(uow: FakeUnitOfWork, alice_id: int) -> None:
    change(uow, alice_id, avatar_url=AVATAR, bio="Curious.")
    uow.outbox.clear()

    written = change(uow, alice_id, display_name="Alice L.")

    assert written.version == 3
    assert only_event(uow).payload == UserProfileChanged(
        user_id=str(alice_id), display_name="Alice L.", avatar_url=AVATAR, bio="Curious."
    )


def test_an_empty_avatar_url_removes_the_avatar(uow: FakeUnitOfWork, alice_id: int) -> None:
    change(uow, alice_id, avatar_url=AVATAR)
    uow.outbox.clear()

    change(uow, alice_id, avatar_url="")

    assert uow.users.get(alice_id).avatar_url is None
    assert only_event(uow).payload.avatar_url is None


@pytest.mark.parametrize("url", [AVATAR, "http://example.com/a.png", "https://example.com/" + "a" * 480])
def test_valid_avatar_urls(uow: FakeUnitOfWork, alice_id: int, url: str) -> None:
    change(uow, alice_id, avatar_url=url)

    assert uow.users.get(alice_id).avatar_url == url


@pytest.mark.parametrize(
    ("url", "messages"),
    [
        ("ftp://example.com/a.png", ["must be an absolute http or https URL"]),
        ("javascript:alert(1)", ["must be an absolute http or https URL"]),
        ("/avatars/a.png", ["must be an absolute http or https URL"]),
        ("https://", ["must be an absolute http or https URL"]),
        ("not a url", ["must be an absolute http or https URL"]),
        ("https://example.com/" + "a" * 481, ["must be at most 500 characters"]),
    ],
)
def test_invalid_avatar_urls(uow: FakeUnitOfWork, alice_id: int, url: str, messages: list[str]) -> None:
    before = uow.committed_state()

    with pytest.raises(ValidationFailed) as caught:
        change(uow, alice_id, avatar_url=url)

    assert caught.value.fields == {"avatar_url": messages}
    assert uow.committed_state() == before


@pytest.mark.parametrize("bio", ["", "x" * 1000])
def test_a_bio_may_be_empty_or_up_to_1000_characters(uow: FakeUnitOfWork, alice_id: int, bio: str) -> None:
    change(uow, alice_id, bio="something first")

    change(uow, alice_id, bio=bio)

    assert uow.users.get(alice_id).bio == bio


def test_a_bio_over_1000_characters_is_refused(uow: FakeUnitOfWork, alice_id: int) -> None:
    with pytest.raises(ValidationFailed) as caught:
        change(uow, alice_id, bio="x" * 1001)

    assert caught.value.fields == {"bio": ["must be at most 1000 characters (got 1001)"]}


@pytest.mark.parametrize("display_name", ["", "  ", "x" * 81])
def test_invalid_display_names_on_change(uow: FakeUnitOfWork, alice_id: int, display_name: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        change(uow, alice_id, display_name=display_name)

    assert list(caught.value.fields) == ["display_name"]
    assert uow.users.get(alice_id).display_name == "Alice A."


def test_only_the_user_changes_their_profile(uow: FakeUnitOfWork, alice_id: int) -> None:
    bob_id = register(uow, username="bob").aggregate_id
    uow.outbox.clear()
    before = uow.committed_state()

    with pytest.raises(PermissionDenied):
        change(uow, alice_id, actor_id=bob_id, display_name="Hacked")

    assert uow.committed_state() == before


def test_changing_an_unknown_user_is_not_found(uow: FakeUnitOfWork) -> None:
    with pytest.raises(NotFound):
        change(uow, 404, display_name="Nobody")


def test_change_with_the_current_version_succeeds(uow: FakeUnitOfWork, alice_id: int) -> None:
    assert change(uow, alice_id, bio="v2", expected_version=1).version == 2


def test_change_with_a_stale_version_writes_nothing(uow: FakeUnitOfWork, alice_id: int) -> None:
    change(uow, alice_id, bio="v2")
    uow.outbox.clear()
    before = uow.committed_state()

    with pytest.raises(StaleVersion) as caught:
        change(uow, alice_id, bio="v3", expected_version=1)

    assert (caught.value.expected, caught.value.current) == (1, 2)
    assert uow.committed_state() == before
