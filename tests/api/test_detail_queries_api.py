"""Detail reads take a fixed number of queries, however many tags and comments there are (no N+1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.api.helpers import Account

POST_DETAIL_QUERIES = 2  # the post with its author and comment count; its tags
COMMENT_DETAIL_QUERIES = 1  # the comment with its author and post
USER_DETAIL_QUERIES = 1
TOKEN_QUERIES = 1  # an authenticated request looks its token (and user) up first


@pytest.fixture
def small_and_big_posts(
    alice: Account, bob: Account, make_post: Callable[..., dict[str, Any]], make_comment: Callable[..., dict[str, Any]]
) -> tuple[int, int, int]:
    """A post with one tag and no comment, one with ten tags and many comments (some deleted, by the post's author),
    and one of those comments."""
    small = make_post(alice.client, tags=["one"])["id"]
    big = make_post(alice.client, tags=[f"tag-{i}" for i in range(10)])["id"]
    comments = [make_comment(bob.client if i % 2 else alice.client, big, body=f"comment {i}")["id"] for i in range(12)]
    for comment_id in comments[::3]:
        assert alice.client.delete(reverse("api:comment-detail", kwargs={"comment_id": comment_id})).status_code == 204
    return small, big, comments[1]


def test_post_detail_queries_do_not_grow_with_tags_or_comments(
    anon: APIClient, small_and_big_posts: tuple[int, int, int], django_assert_num_queries: Callable[..., Any]
) -> None:
    small, big, _ = small_and_big_posts

    with django_assert_num_queries(POST_DETAIL_QUERIES):
        small_body = anon.get(reverse("api:post-detail", kwargs={"post_id": small})).json()
    with django_assert_num_queries(POST_DETAIL_QUERIES):
        big_body = anon.get(reverse("api:post-detail", kwargs={"post_id": big})).json()

    assert (len(small_body["tags"]), small_body["comment_count"]) == (1, 0)
    assert (len(big_body["tags"]), big_body["comment_count"]) == (10, 8)


def test_post_detail_of_an_authenticated_reader_adds_only_the_token_lookup(
    alice: Account, small_and_big_posts: tuple[int, int, int], django_assert_num_queries: Callable[..., Any]
) -> None:
    for post_id in small_and_big_posts[:2]:
        with django_assert_num_queries(TOKEN_QUERIES + POST_DETAIL_QUERIES):
            assert alice.client.get(reverse("api:post-detail", kwargs={"post_id": post_id})).status_code == 200


def test_comment_detail_is_one_query(
    anon: APIClient, small_and_big_posts: tuple[int, int, int], django_assert_num_queries: Callable[..., Any]
) -> None:
    comment_id = small_and_big_posts[2]

    with django_assert_num_queries(COMMENT_DETAIL_QUERIES):
        response = anon.get(reverse("api:comment-detail", kwargs={"comment_id": comment_id}))

    assert response.status_code == 200


def test_user_detail_is_one_query(
    anon: APIClient, alice: Account, django_assert_num_queries: Callable[..., Any]
) -> None:
    with django_assert_num_queries(USER_DETAIL_QUERIES):
        assert anon.get(reverse("api:user-detail", kwargs={"user_id": alice.id})).status_code == 200


@pytest.mark.parametrize("route", ["api:post-detail", "api:comment-detail", "api:user-detail"])
def test_a_missing_aggregate_is_one_query(
    anon: APIClient, django_assert_num_queries: Callable[..., Any], route: str
) -> None:
    kwarg = {"api:post-detail": "post_id", "api:comment-detail": "comment_id", "api:user-detail": "user_id"}[route]

    with django_assert_num_queries(1):
        assert anon.get(reverse(route, kwargs={kwarg: 424242})).status_code == 404
