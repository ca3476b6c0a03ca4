"""Erasure and tombstones, pure: `user.erased`'s plan, what tombstones keep, which notices erasure purges.

Documents are built by the rebuild's in-memory models (`projector.operations.fold.MemoryModels`), which apply the
handlers' plans, follow-ups included, with the apply script's semantics (`projector.consumer.scripts`).
"""

from __future__ import annotations

from typing import Any

import pytest

from events.errors import SubjectErased
from events.personal_data import KeyRecord, KeyRing, new_key
from events.types import (
    CommentAdded,
    CommentDeleted,
    PostCreated,
    PostDeleted,
    PostPublished,
    UserErased,
    UserProfileChanged,
    UserRegistered,
)

# Projector imports in one block (its modules are being moved into subpackages).
from projector.consumer.erasure import Erasure, holds_personal_data
from projector.consumer.handlers import plan_for
from projector.consumer.plans import Facet, FollowUps, Upsert
from projector.consumer.subject_keys import erased_by
from projector.consumer.writer import Applied
from projector.operations.fold import MemoryModels
from read_models.documents import PERSONAL_FIELDS
from read_models.notices import notice_encode, notice_parse
from tests.unit.projector.plan_samples import ADA, AUTHOR_DEFAULTS, BOB, CREATED_AT, PUBLISHED_AT, envelope

REGISTERED = UserRegistered(
    user_id="u1", username="ada", display_name="Ada Lovelace", avatar_url="https://img.example/ada.png", bio="Maths"
)
ADA_POST = PostCreated("p1", ADA, "Ada's notes", "On the engine", ("maths",), CREATED_AT)
BOB_POST = PostCreated("p2", BOB, "Bob's notes", "On gardens", ("plants",), CREATED_AT)
BOB_ON_ADA = CommentAdded("c1", "p1", BOB, "Great notes", CREATED_AT)
ADA_ON_BOB = CommentAdded("c2", "p2", ADA, "Ada was here", CREATED_AT)


def personal_fields(document: dict[str, Any]) -> set[str]:
    """The personal fields a document holds, an author snapshot's included (`author.<name>`)."""
    author = document.get("author") or {}
    return {name for name in PERSONAL_FIELDS if name in document} | {
        f"author.{n}" for n in PERSONAL_FIELDS if n in author
    }


def test_user_erased_makes_the_author_document_a_tombstone_out_of_the_directory() -> None:
    plan = plan_for(envelope(UserErased("u1"), version=6))

    assert plan is not None
    fields = {"erased": True, "registered": False}
    assert plan.primary == Upsert("authors", "u1", facets=(Facet("user_version", 6, fields),), defaults=AUTHOR_DEFAULTS)
    assert plan.follow(plan.primary.params()) == FollowUps()


def test_an_erased_author_keeps_no_personal_field_and_a_replayed_profile_brings_none_back() -> None:
    models = MemoryModels()
    profile = UserProfileChanged("u1", display_name="Ada King", avatar_url=None, bio="Countess")
    for payload, version in ((REGISTERED, 1), (profile, 2), (UserErased("u1"), 3), (profile, 2), (REGISTERED, 1)):
        models.apply(envelope(payload, version))

    author = models.documents["authors"]["u1"]
    assert personal_fields(author) == set()
    assert (author["id"], author["user_version"], author["erased"], author["registered"]) == ("u1", 3, True, False)


def test_tombstones_keep_no_text_whatever_is_written_to_them_later() -> None:
    models = MemoryModels()
    history = [
        (REGISTERED, 1), (ADA_POST, 1), (PostPublished("p1", PUBLISHED_AT), 2), (BOB_POST, 1), (BOB_ON_ADA, 1),
        (ADA_ON_BOB, 1), (PostDeleted("p1"), 3), (CommentDeleted("c2", "p2"), 2),
        # A newer profile of the author is rewritten into every document embedding them: not into tombstones.
        (UserProfileChanged("u1", display_name="Ada King", avatar_url=None, bio="Countess"), 9),
    ]  # fmt: skip
    for payload, version in history:
        models.apply(envelope(payload, version))

    post, own_comment = models.documents["posts"]["p1"], models.documents["comments"]["c2"]
    assert personal_fields(post) == set()
    assert post["author"] == {"id": "u1"}
    assert (post["status"], post["deleted"], post["post_version"]) == ("deleted", True, 3)
    assert personal_fields(own_comment) == set()
    assert own_comment["author"] == {"id": "u1"}
    # Bob's comment on the deleted post is Bob's: it keeps his text, not the post's title.
    others = models.documents["comments"]["c1"]
    assert (others["body"], others["post_title"], others["post_deleted"]) == ("Great notes", None, True)
    assert models.documents["posts"]["p2"]["title"] == "Bob's notes"


def notice(payload: object, version: int, document: dict[str, Any] | None) -> Any:
    fields = notice_encode(envelope(payload, version), document)
    return notice_parse(("1-0", {name.encode(): _bytes(value) for name, value in fields.items()}))


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def test_erasure_purges_the_notices_holding_the_persons_data_and_keeps_tombstones_and_the_erasure() -> None:
    ada_post = {"id": "p1", "title": "Ada's notes", "author": {"id": "u1", "username": "ada"}}
    bob_on_ada = {
        "id": "c1",
        "post_id": "p1",
        "post_title": "Ada's notes",
        "body": "Great notes",
        "author": {"id": "u2"},
    }
    tombstone = {"id": "p1", "status": "deleted", "deleted": True, "author": {"id": "u1"}, "post_version": 3}
    erased = {"id": "u1", "erased": True, "registered": False, "user_version": 3}
    users, posts = {"u1"}, {"p1"}

    assert holds_personal_data(notice(REGISTERED, 1, None), users, posts)  # the event itself carries the profile
    assert holds_personal_data(notice(PostPublished("p1", PUBLISHED_AT), 2, ada_post), users, posts)
    assert holds_personal_data(notice(BOB_ON_ADA, 1, bob_on_ada), users, posts)  # the copy of Ada's title
    assert holds_personal_data(notice(ADA_ON_BOB, 1, None), users, posts)
    assert not holds_personal_data(notice(PostDeleted("p1"), 3, tombstone), users, posts)
    assert not holds_personal_data(notice(UserErased("u1"), 3, erased), users, posts)
    assert not holds_personal_data(notice(BOB_POST, 1, {"id": "p2", "title": "Bob's notes"}), users, posts)


def test_a_user_erased_applied_marks_the_person_erased_in_the_ring_before_the_key_topic_says_so() -> None:
    ring = KeyRing()
    ring.apply(KeyRecord("u1", new_key()))
    ring.apply(KeyRecord("u2", new_key()))

    assert erased_by(ring, [envelope(BOB_POST, 1), envelope(UserErased("u1"), 3)]) == ["u1"]
    assert ring.erased("u1")
    assert not ring.erased("u2")
    with pytest.raises(SubjectErased):
        ring.key_of("u1")


def test_an_event_applied_after_its_authors_erasure_is_not_announced_while_it_holds_their_data() -> None:
    ring = KeyRing()
    ring.apply(KeyRecord("u1", None))
    erasure = Erasure(None, {}, None, ring)  # type: ignore[arg-type]  # announcing reads neither OpenSearch nor Redis
    published = Applied(envelope(PostPublished("p1", PUBLISHED_AT), 2), {"id": "p1", "title": "Ada's notes",
                        "author": {"id": "u1", "username": "ada"}})  # fmt: skip
    deleted = Applied(envelope(PostDeleted("p1"), 3), {"id": "p1", "deleted": True, "author": {"id": "u1"}})
    bobs = Applied(envelope(BOB_POST, 1), {"id": "p2", "title": "Bob's notes", "author": {"id": "u2"}})

    assert erasure.announced([published, deleted, bobs]) == [deleted, bobs]
