"""Bounds before work in the domain: tags' count and length before normalizing, linear tag normalization with the
results of the old one, and error messages bounded per field (first N item errors, then a count)."""

from __future__ import annotations

import random

import pytest

from command_service.domain import rules
from command_service.domain.actors import Actor
from command_service.domain.errors import FIELD_MESSAGES_MAX, ValidationFailed, bounded, not_shown
from command_service.domain.rules import FieldErrors
from command_service.services.posts import post_create, post_tags_set
from command_service.services.users import user_register
from tests.unit.command_service.fakes import FakeUnitOfWork
from tests.unit.command_service.scenario import post_in

BAD = "must be 1 to 32 lower-case letters, digits or hyphens, not starting with one"


def _refused(uow: FakeUnitOfWork, actor: Actor, tags: list[object]) -> dict[str, list[str]]:
    before = uow.committed_state()
    with pytest.raises(ValidationFailed) as caught:
        post_create(actor=actor, title="Hello", content="Words.", tags=tags, uow=uow)  # type: ignore[arg-type]
    assert uow.committed_state() == before
    return caught.value.fields


def _raised(errors: FieldErrors) -> dict[str, list[str]]:
    """The fields `errors` raises, {} when it raises nothing."""
    try:
        errors.raise_if_any()
    except ValidationFailed as exc:
        return exc.fields
    return {}


def _quadratic_normalize(tags: list[str]) -> tuple[tuple[str, ...], list[str], list[str]]:
    """The normalization as it was (a list membership test per tag), the oracle of the linear one's results: the
    tags, the item messages and the count message (the old code gave every item message)."""
    normalized: list[str] = []
    items: list[str] = []
    for tag in tags:
        tag = tag.strip().lower()
        if not rules.TAG_RE.match(tag):
            items.append(f"{tag!r} {BAD}")
        elif tag not in normalized:
            normalized.append(tag)
    count = [f"at most {rules.TAGS_MAX} tags (got {len(normalized)})"] if len(normalized) > rules.TAGS_MAX else []
    return tuple(normalized), items, count


# Linear normalization, same results.


@pytest.mark.parametrize("seed", range(40))
def test_normalization_gives_the_results_of_the_quadratic_one(seed: int) -> None:
    rng = random.Random(seed)
    pool = ["python", "Python", " PYTHON ", "django", "a-b", "9lives", "z" * 32, "z" * 33, "-x", "", "two words",
            "Web\n", "web", "ünï", "c#", *(f"t{n}" for n in range(15))]  # fmt: skip
    tags = [rng.choice(pool) for _ in range(rng.randrange(0, 40))]
    errors = FieldErrors()

    normalized = rules.normalize_tags(errors, tags)

    expected, items, count = _quadratic_normalize(tags)
    assert normalized == expected
    assert _raised(errors).get("tags", []) == bounded(items) + count


def test_the_first_occurrence_wins_and_order_is_kept_before_sorting() -> None:
    assert rules.normalize_tags(FieldErrors(), ["b", "A", " B ", "c", "a"]) == ("b", "a", "c")


# The count of the tags as sent: checked before any tag is read.


def test_a_list_over_the_input_limit_is_refused_without_reading_an_item() -> None:
    errors = FieldErrors()
    unreadable = [object()] * (rules.TAGS_INPUT_MAX + 1)  # len() or strip() of one would raise

    assert rules.normalize_tags(errors, unreadable) == ()  # type: ignore[arg-type]
    assert errors.errors == {"tags": [rules.tags_input_too_long(rules.TAGS_INPUT_MAX + 1)]}


def test_sixty_thousand_tags_are_refused_by_the_count(uow: FakeUnitOfWork, alice: Actor) -> None:
    fields = _refused(uow, alice, [f"tag{n}" for n in range(60_000)])

    assert fields == {"tags": [rules.tags_input_too_long(60_000)]}
    assert fields["tags"][0].startswith(f"at most {rules.TAGS_MAX} tags (got a list of 60000;")


def test_sixty_thousand_tags_are_refused_when_set(uow: FakeUnitOfWork, alice: Actor) -> None:
    post_id = post_in(uow, alice, "draft", tags=("python",))

    with pytest.raises(ValidationFailed) as caught:
        post_tags_set(post_id=post_id, actor=alice, tags=["x"] * 60_000, uow=uow)

    assert caught.value.fields == {"tags": [rules.tags_input_too_long(60_000)]}
    assert uow.posts.get(post_id).tags == ("python",)


def test_a_list_at_the_input_limit_is_normalized(uow: FakeUnitOfWork, alice: Actor) -> None:
    tags = [f"Tag{n % 10}" for n in range(rules.TAGS_INPUT_MAX)]

    written = post_create(actor=alice, title="Hello", content="Words.", tags=tags, uow=uow)

    assert uow.posts.get(written.aggregate_id).tags == tuple(f"tag{n}" for n in range(10))


# The length of each tag as sent: checked before it is normalized.


def test_a_tag_padded_to_the_input_limit_is_accepted() -> None:
    padded = " " * (rules.TAG_INPUT_MAX - 7) + "Python "
    assert len(padded) == rules.TAG_INPUT_MAX

    errors = FieldErrors()
    assert rules.normalize_tags(errors, [padded]) == ("python",)
    assert errors.errors == {}


def test_a_tag_over_the_input_limit_is_refused_without_echoing_it() -> None:
    errors = FieldErrors()

    assert rules.normalize_tags(errors, [" python" + " " * rules.TAG_INPUT_MAX, "django"]) == ("django",)
    message = f"a tag must be at most {rules.TAG_INPUT_MAX} characters as sent (got {rules.TAG_INPUT_MAX + 7})"
    assert errors.errors == {"tags": [message]}


# Bounded messages: the first N item errors, then a count of the rest.


def test_a_thousand_bad_tags_give_n_messages_and_a_count(uow: FakeUnitOfWork, alice: Actor) -> None:
    fields = _refused(uow, alice, [f"-bad{n}" for n in range(1000)])

    assert fields == {
        "tags": [f"'-bad{n}' {BAD}" for n in range(FIELD_MESSAGES_MAX)] + [not_shown(1000 - FIELD_MESSAGES_MAX)]
    }


def test_the_count_message_stays_beside_bounded_item_messages(uow: FakeUnitOfWork, alice: Actor) -> None:
    fields = _refused(uow, alice, [f"-bad{n}" for n in range(30)] + [f"good{n}" for n in range(12)])

    assert fields["tags"][FIELD_MESSAGES_MAX:] == [not_shown(20), "at most 10 tags (got 12)"]
    assert len(fields["tags"]) == FIELD_MESSAGES_MAX + 2


def test_field_errors_count_items_past_n_where_the_next_would_be() -> None:
    errors = FieldErrors()
    errors.add("tags", "first")
    for n in range(FIELD_MESSAGES_MAX + 3):
        errors.add_item("tags", f"item {n}")
    errors.add("tags", "last")
    errors.add_item("other", "one")

    with pytest.raises(ValidationFailed) as caught:
        errors.raise_if_any()

    items = [f"item {n}" for n in range(FIELD_MESSAGES_MAX)]
    assert caught.value.fields == {"tags": ["first", *items, "and 3 more errors not shown", "last"], "other": ["one"]}


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, []),
        (FIELD_MESSAGES_MAX, [f"m{n}" for n in range(FIELD_MESSAGES_MAX)]),
        (FIELD_MESSAGES_MAX + 1, [*(f"m{n}" for n in range(FIELD_MESSAGES_MAX)), "and 1 more error not shown"]),
        (1000, [*(f"m{n}" for n in range(FIELD_MESSAGES_MAX)), "and 990 more errors not shown"]),
    ],
)
def test_bounded_keeps_the_first_n_and_counts_the_rest(count: int, expected: list[str]) -> None:
    assert bounded([f"m{n}" for n in range(count)]) == expected


# Text sizes: the limit first, nothing else read of a longer text.


def test_an_overlong_blank_text_is_only_too_long() -> None:
    errors = FieldErrors()

    rules.check_text(errors, "title", " " * (rules.TITLE_MAX + 1), max_length=rules.TITLE_MAX)

    assert errors.errors == {"title": [f"must be at most {rules.TITLE_MAX} characters (got {rules.TITLE_MAX + 1})"]}


def test_an_overlong_avatar_url_is_not_parsed() -> None:
    errors = FieldErrors()

    rules.check_avatar_url(errors, "not a url " * 100)

    assert errors.errors == {"avatar_url": [f"must be at most {rules.AVATAR_URL_MAX} characters"]}


@pytest.mark.parametrize(
    ("length", "fields"),
    [
        (rules.PASSWORD_MAX, None),
        (rules.PASSWORD_MAX + 1, {"password": [f"must be at most {rules.PASSWORD_MAX} characters"]}),
        (1024 * 1024, {"password": [f"must be at most {rules.PASSWORD_MAX} characters"]}),
    ],
)
def test_passwords_have_a_maximum_length(uow: FakeUnitOfWork, length: int, fields: dict[str, list[str]] | None) -> None:
    password = ("correct horse " * (length // 14 + 1))[:length]

    if fields is None:
        assert user_register(username="carol", password=password, display_name="Carol", uow=uow).version == 1
    else:
        with pytest.raises(ValidationFailed) as caught:
            user_register(username="carol", password=password, display_name="Carol", uow=uow)
        assert caught.value.fields == fields
