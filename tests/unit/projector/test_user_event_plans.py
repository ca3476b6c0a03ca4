"""Plans of user events: the author document under the user's version, then rewrites of the content embedding it."""

from __future__ import annotations

import json

from events.envelope import decode, envelope_to_dict
from events.types import UserDeactivated, UserProfileChanged, UserReactivated, UserRegistered, UserRegisteredV1

# Projector imports in one block (its modules are being moved into subpackages).
from projector.consumer.handlers import plan_for
from projector.consumer.plans import Facet, FollowUps, Rewrite, Upsert
from tests.unit.projector.plan_samples import AUTHOR_DEFAULTS, author_document, envelope

REGISTERED = UserRegistered(
    user_id="u1", username="ada", display_name="Ada Lovelace", avatar_url="https://img.example/ada.png", bio="Maths"
)
PROFILE_CHANGED = UserProfileChanged(user_id="u1", display_name="Ada King", avatar_url=None, bio="Countess")
AUTHOR_2 = {"id": "u1", "username": "ada", "display_name": "Ada King", "avatar_url": "https://img.example/ada-2.png"}


def test_user_registered_upserts_the_author_document_under_the_user_version() -> None:
    plan = plan_for(envelope(REGISTERED, version=1))

    assert plan is not None
    fields = {
        "display_name": "Ada Lovelace",
        "avatar_url": "https://img.example/ada.png",
        "bio": "Maths",
        "username": "ada",
        "registered": True,
    }
    assert plan.primary == Upsert("authors", "u1", facets=(Facet("user_version", 1, fields),), defaults=AUTHOR_DEFAULTS)


def test_user_profile_changed_sets_the_profile_but_never_the_username() -> None:
    plan = plan_for(envelope(PROFILE_CHANGED, version=4))

    assert plan is not None
    fields = {"display_name": "Ada King", "avatar_url": None, "bio": "Countess", "registered": True}
    assert plan.primary == Upsert("authors", "u1", facets=(Facet("user_version", 4, fields),), defaults=AUTHOR_DEFAULTS)


def test_a_user_event_rewrites_posts_and_comments_by_author_id_with_the_author_document() -> None:
    plan = plan_for(envelope(PROFILE_CHANGED, version=2))

    assert plan is not None
    facet = Facet("author_version", 2, {"author": AUTHOR_2})
    assert plan.follow(author_document("u1", 2)) == FollowUps(
        rewrites=(Rewrite("posts", {"author.id": "u1"}, facet), Rewrite("comments", {"author.id": "u1"}, facet))
    )


def test_a_deactivation_or_reactivation_moves_only_the_version_of_the_author_and_of_the_content() -> None:
    """No public field changes; the author document and every post and comment embedding it take the new version."""
    for payload in (UserDeactivated(user_id="u1"), UserReactivated(user_id="u1")):
        plan = plan_for(envelope(payload, version=5))

        assert plan is not None
        assert plan.primary == Upsert("authors", "u1", facets=(Facet("user_version", 5, {}),), defaults=AUTHOR_DEFAULTS)
        facet = Facet("author_version", 5, {"author": AUTHOR_2})
        assert plan.follow(author_document("u1", 5)) == FollowUps(
            rewrites=(Rewrite("posts", {"author.id": "u1"}, facet), Rewrite("comments", {"author.id": "u1"}, facet))
        )


def test_a_stale_user_event_rewrites_with_the_newer_profile_the_document_holds() -> None:
    """A replayed version 2 meets an author document at version 7: content gets version 7's values, not the event's."""
    plan = plan_for(envelope(PROFILE_CHANGED, version=2))

    assert plan is not None
    follow = plan.follow(author_document("u1", 7, display_name="Lady Lovelace"))
    facet = Facet("author_version", 7, {"author": {**AUTHOR_2, "display_name": "Lady Lovelace"}})
    assert follow.rewrites == (
        Rewrite("posts", {"author.id": "u1"}, facet),
        Rewrite("comments", {"author.id": "u1"}, facet),
    )
    assert (follow.lookups, follow.recounts) == ((), ())
    assert follow.lookups == ()


def test_the_embedded_author_keeps_only_the_public_identity_fields() -> None:
    plan = plan_for(envelope(REGISTERED, version=1))

    assert plan is not None
    (rewrite, _) = plan.follow(author_document("u1", 1)).rewrites
    assert sorted(rewrite.facet.set["author"]) == ["avatar_url", "display_name", "id", "username"]


def test_no_rewrite_while_the_author_document_has_no_username() -> None:
    """A profile known without its registration would embed a null username: content keeps its snapshot instead."""
    plan = plan_for(envelope(PROFILE_CHANGED, version=3))

    assert plan is not None
    assert plan.follow(author_document("u1", 3, username=None)) == FollowUps()
    assert plan.follow({"id": "u1", "user_version": 3, "display_name": "Ada King"}) == FollowUps()


def test_a_registration_of_the_earlier_release_is_planned_as_its_lifted_current_version() -> None:
    """`user.registered` v1 (one `name`, optional avatar and bio) reaches the projector through decode, as v2."""
    old = envelope(UserRegisteredV1(user_id="u1", username="ada", name="Ada Lovelace"), version=1)
    decoded = decode(json.dumps(envelope_to_dict(old)).encode())

    assert (decoded.schema_version, type(decoded.payload)) == (2, UserRegistered)
    plan = plan_for(decoded)
    assert plan is not None
    fields = {"display_name": "Ada Lovelace", "avatar_url": None, "bio": "", "username": "ada", "registered": True}
    assert plan.primary == Upsert("authors", "u1", facets=(Facet("user_version", 1, fields),), defaults=AUTHOR_DEFAULTS)
