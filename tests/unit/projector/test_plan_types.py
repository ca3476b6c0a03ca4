"""The plan dataclasses: the script parameters they produce, their defaults, and their immutability."""

from __future__ import annotations

import dataclasses

import pytest

# Projector imports in one block (its modules are being moved into subpackages).
from projector.consumer.plans import Facet, FollowUps, Lookup, Plan, Recount, Rewrite, Upsert


def test_a_facet_parameter_names_its_guard_version_and_fields() -> None:
    facet = Facet("post_version", 4, {"title": "T", "tags": ["a"]})

    assert facet.param() == {"guard": "post_version", "version": 4, "set": {"title": "T", "tags": ["a"]}}


def test_upsert_parameters_carry_the_document_id_facets_and_defaults_in_order() -> None:
    upsert = Upsert(
        "posts",
        "p1",
        facets=(Facet("post_version", 2, {"title": "T"}), Facet("author_version", 5, {"author": {"id": "u1"}})),
        defaults={"comment_count": 0},
    )

    assert upsert.params() == {
        "id": "p1",
        "facets": [
            {"guard": "post_version", "version": 2, "set": {"title": "T"}},
            {"guard": "author_version", "version": 5, "set": {"author": {"id": "u1"}}},
        ],
        "defaults": {"comment_count": 0},
    }


def test_upserts_of_one_document_merge_into_one_with_facets_in_order_and_the_earlier_defaults() -> None:
    first = Upsert("posts", "p1", facets=(Facet("post_version", 1, {"title": "A"}),), defaults={"n": 0, "x": 1})
    later = Upsert("posts", "p1", facets=(Facet("post_version", 2, {"title": "B"}),), defaults={"n": 5, "y": 2})

    assert first.merged(later) == Upsert(
        "posts",
        "p1",
        facets=(Facet("post_version", 1, {"title": "A"}), Facet("post_version", 2, {"title": "B"})),
        defaults={"n": 0, "x": 1, "y": 2},
    )


def test_a_bare_upsert_has_nothing_to_write_but_its_id() -> None:
    assert Upsert("authors", "u1").params() == {"id": "u1", "facets": [], "defaults": {}}


def test_upserts_do_not_share_their_default_defaults() -> None:
    first, second = Upsert("posts", "p1"), Upsert("posts", "p2")
    first.defaults["x"] = 1

    assert second.defaults == {}


def test_a_plan_without_follow_ups_asks_for_none_whatever_the_document() -> None:
    plan = Plan(Upsert("posts", "p1"))

    assert plan.follow({"id": "p1", "author": {"id": "u1"}}) == FollowUps((), (), ())
    assert plan.follow({}) == FollowUps(lookups=(), rewrites=(), recounts=())


def test_a_lookup_folds_with_the_function_it_was_given() -> None:
    lookup = Lookup("authors", "u1", lambda author: Upsert("posts", "p1", defaults={"seen": author["id"]}))

    assert lookup.fold({"id": "u1"}) == Upsert("posts", "p1", defaults={"seen": "u1"})


def test_plan_values_compare_by_value() -> None:
    facet = Facet("post_version", 3, {"post_title": "T"})

    assert Rewrite("comments", {"post_id": "p1"}, facet) == Rewrite(
        "comments", {"post_id": "p1"}, Facet("post_version", 3, {"post_title": "T"})
    )
    assert Rewrite("comments", {"post_id": "p1"}, facet) != Rewrite("comments", {"post_id": "p2"}, facet)


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (Facet("g", 1, {}), "version"),
        (Recount("posts", "p1"), "doc_id"),
        (Upsert("posts", "p1"), "doc_id"),
        (Lookup("authors", "u1", lambda document: None), "doc_id"),
        (Rewrite("comments", {"post_id": "p1"}, Facet("g", 1, {})), "model"),
        (FollowUps(), "recounts"),
        (Plan(Upsert("posts", "p1")), "primary"),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, str) else value,
)
def test_plan_values_are_immutable(value: object, field: str) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, None)
