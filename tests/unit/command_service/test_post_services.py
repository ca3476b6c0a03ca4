"""post_create, post_edit and post_tags_set: the field rules and the events they emit."""

from __future__ import annotations

import pytest

from command_service.domain.actors import Actor
from command_service.domain.errors import NotFound, ValidationFailed
from command_service.domain.posts import Post, PostStatus
from command_service.services.posts import post_create, post_edit, post_tags_set
from command_service.services.unit_of_work import Written
from command_service.services.users import user_profile_change
from events.types import AuthorSnapshot, PostCreated, PostEdited, PostTagsChanged
from tests.unit.command_service.fakes import START, FakeUnitOfWork
from tests.unit.command_service.scenario import only_event, post_in

BLANK = "must not be blank"


def create(uow: FakeUnitOfWork, actor: Actor, **overrides: object) -> Written:
    fields = {"title": "Hello", "content": "First words.", "tags": ["python"], **overrides}
    return post_create(actor=actor, **fields, uow=uow)


def create_refused(uow: FakeUnitOfWork, actor: Actor, **overrides: object) -> dict[str, list[str]]:
    """The field errors of a refused creation, after checking that it wrote nothing."""
    before = uow.committed_state()
    with pytest.raises(ValidationFailed) as caught:
        create(uow, actor, **overrides)
    assert uow.committed_state() == before
    return caught.value.fields


# Creating.


def test_create_stores_a_draft_and_emits_post_created(uow: FakeUnitOfWork, alice: Actor) -> None:
    written = create(uow, alice, title="  Hello  ", content="  First words.\n", tags=["Python", "django"])

    assert written == Written("post", written.aggregate_id, 1)
    assert uow.posts.get(written.aggregate_id) == Post(
        written.aggregate_id, alice.user_id, "Hello", "  First words.\n", ("django", "python"), PostStatus.DRAFT,
        START, START, None, 1,
    )  # fmt: skip
    event = only_event(uow)
    assert (event.event_type, event.aggregate_type) == ("post.created", "post")
    assert (event.aggregate_id, event.aggregate_version) == (str(written.aggregate_id), 1)
    assert event.payload == PostCreated(
        post_id=str(written.aggregate_id),
        author=AuthorSnapshot(
            user_id=str(alice.user_id), username="alice", display_name="Alice", avatar_url=None, user_version=1
        ),
        title="Hello",
        content="  First words.\n",
        tags=("django", "python"),
        created_at=START,
    )


def test_the_author_snapshot_is_the_current_profile(uow: FakeUnitOfWork, alice: Actor) -> None:
    avatar = "https://cdn.example.com/a.png"
    user_profile_change(user_id=alice.user_id, actor=alice, display_name="Alice L.", avatar_url=avatar, uow=uow)
    uow.outbox.clear()

    create(uow, alice)

    assert only_event(uow).payload.author == AuthorSnapshot(
        user_id=str(alice.user_id), username="alice", display_name="Alice L.", avatar_url=avatar, user_version=2
    )


def test_an_unknown_author_creates_nothing(uow: FakeUnitOfWork) -> None:
    with pytest.raises(NotFound):
        create(uow, Actor(404))

    assert uow.committed_state() == FakeUnitOfWork().committed_state()


@pytest.mark.parametrize(("field", "size"), [("title", 200), ("content", 100_000)])
def test_text_at_the_maximum_length_is_allowed(uow: FakeUnitOfWork, alice: Actor, field: str, size: int) -> None:
    written = create(uow, alice, **{field: "x" * size})

    assert getattr(uow.posts.get(written.aggregate_id), field) == "x" * size


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", BLANK),
        ("title", " \t\n", BLANK),
        ("title", "x" * 201, "must be at most 200 characters (got 201)"),
        ("content", "", BLANK),
        ("content", "   ", BLANK),
        ("content", "x" * 100_001, "must be at most 100000 characters (got 100001)"),
    ],
)
def test_text_rules(uow: FakeUnitOfWork, alice: Actor, field: str, value: str, message: str) -> None:
    assert create_refused(uow, alice, **{field: value}) == {field: [message]}


def test_every_broken_field_is_reported_at_once(uow: FakeUnitOfWork, alice: Actor) -> None:
    fields = create_refused(uow, alice, title="", content="", tags=["Not Valid"])

    assert set(fields) == {"title", "content", "tags"}


# Tags.


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ([], ()),
        (["Python"], ("python",)),
        (["  Django  ", "python", "ORM"], ("django", "orm", "python")),
        (["python", "PYTHON", "Python", "django"], ("django", "python")),
        (["c-3po", "9lives", "a", "z" * 32], ("9lives", "a", "c-3po", "z" * 32)),
    ],
)
def test_tags_are_lower_cased_sorted_and_unique(
    uow: FakeUnitOfWork, alice: Actor, given: list[str], stored: tuple[str, ...]
) -> None:
    written = create(uow, alice, tags=given)

    assert uow.posts.get(written.aggregate_id).tags == stored
    assert only_event(uow).payload.tags == stored


@pytest.mark.parametrize("tag", ["", "   ", "-lead", "has space", "under_score", "z" * 33, "ünï", "c#", "a.b"])
def test_malformed_tags_are_refused(uow: FakeUnitOfWork, alice: Actor, tag: str) -> None:
    fields = create_refused(uow, alice, tags=["python", tag])

    assert list(fields) == ["tags"]
    assert len(fields["tags"]) == 1


def test_ten_distinct_tags_are_allowed(uow: FakeUnitOfWork, alice: Actor) -> None:
    tags = [f"tag{n}" for n in range(10)]

    written = create(uow, alice, tags=[*tags, *(tag.upper() for tag in tags)])

    assert uow.posts.get(written.aggregate_id).tags == tuple(sorted(tags))


def test_eleven_distinct_tags_are_refused(uow: FakeUnitOfWork, alice: Actor) -> None:
    fields = create_refused(uow, alice, tags=[f"tag{n}" for n in range(11)])

    assert fields == {"tags": ["at most 10 tags (got 11)"]}


# Editing.


def test_edit_replaces_title_and_content(uow: FakeUnitOfWork, alice: Actor) -> None:
    post_id = post_in(uow, alice, "published")
    later = uow.advance(minutes=5)

    written = post_edit(post_id=post_id, actor=alice, title=" New title ", content="New content.", uow=uow)

    assert written == Written("post", post_id, 3)
    post = uow.posts.get(post_id)
    assert (post.title, post.content, post.status, post.updated_at, post.created_at) == (
        "New title", "New content.", PostStatus.PUBLISHED, later, START,
    )  # fmt: skip
    event = only_event(uow)
    assert (event.event_type, event.aggregate_id, event.aggregate_version) == ("post.edited", str(post_id), 3)
    assert event.payload == PostEdited(post_id=str(post_id), title="New title", content="New content.")


@pytest.mark.parametrize(
    ("title", "content", "fields"),
    [
        ("", "ok", {"title": [BLANK]}),
        ("ok", " ", {"content": [BLANK]}),
        ("x" * 201, "x" * 100_001, {"title": ["must be at most 200 characters (got 201)"],
                                     "content": ["must be at most 100000 characters (got 100001)"]}),
    ],
)  # fmt: skip
def test_edit_checks_the_text_rules(
    uow: FakeUnitOfWork, alice: Actor, title: str, content: str, fields: dict[str, list[str]]
) -> None:
    post_id = post_in(uow, alice, "draft")
    before = uow.committed_state()

    with pytest.raises(ValidationFailed) as caught:
        post_edit(post_id=post_id, actor=alice, title=title, content=content, uow=uow)

    assert caught.value.fields == fields
    assert uow.committed_state() == before


def test_set_tags_replaces_them_normalized(uow: FakeUnitOfWork, alice: Actor) -> None:
    post_id = post_in(uow, alice, "draft", tags=("python",))

    written = post_tags_set(post_id=post_id, actor=alice, tags=["Web", "django", "WEB", "api"], uow=uow)

    assert written == Written("post", post_id, 2)
    assert uow.posts.get(post_id).tags == ("api", "django", "web")
    event = only_event(uow)
    assert (event.event_type, event.aggregate_id, event.aggregate_version) == ("post.tags_changed", str(post_id), 2)
    assert event.payload == PostTagsChanged(post_id=str(post_id), tags=("api", "django", "web"))


def test_set_tags_may_clear_them(uow: FakeUnitOfWork, alice: Actor) -> None:
    post_id = post_in(uow, alice, "draft", tags=("python", "django"))

    post_tags_set(post_id=post_id, actor=alice, tags=[], uow=uow)

    assert uow.posts.get(post_id).tags == ()
    assert only_event(uow).payload == PostTagsChanged(post_id=str(post_id), tags=())


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ([f"t{n}" for n in range(11)], "at most 10 tags (got 11)"),
        (["ok", "Not Ok"], "'not ok' must be 1 to 32 lower-case letters, digits or hyphens, not starting with one"),
    ],
)
def test_set_tags_checks_the_tag_rules(uow: FakeUnitOfWork, alice: Actor, tags: list[str], message: str) -> None:
    post_id = post_in(uow, alice, "draft", tags=("python",))
    before = uow.committed_state()

    with pytest.raises(ValidationFailed) as caught:
        post_tags_set(post_id=post_id, actor=alice, tags=tags, uow=uow)

    assert caught.value.fields == {"tags": [message]}
    assert uow.committed_state() == before
