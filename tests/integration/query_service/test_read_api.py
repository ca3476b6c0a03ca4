"""Comments, authors, tag facets, bad parameters, read-your-writes, freshness and an unreachable OpenSearch."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from command_service.services import comments, posts, users
from events.consistency import token_parse
from query_service.adapters import opensearch
from query_service.search.consistency import version_visible
from read_models.keys import freshness_key
from tests.integration.query_service.conftest import GROUP, Story


def test_comments_of_a_post_oldest_first_in_pages_without_deleted_ones(story: Story, get: Callable[..., Any]) -> None:
    ada, bob = story.register("ada"), story.register("bob", "Bob B.")
    post_id = story.post(ada, "Talk")
    written = [story.comment(post_id, bob, f"comment {n}") for n in range(5)]
    comments.comment_delete(comment_id=written[1], actor=bob, uow=story.uow)
    story.comment(story.post(ada, "Elsewhere"), bob)
    story.project()

    first = get("post-comment-list", {"page_size": 3}, kwargs={"post_id": post_id}).json()
    second = get("post-comment-list", {"page_size": 3, "cursor": first["next_cursor"]}, kwargs={"post_id": post_id})

    bodies = [c["body"] for c in first["results"] + second.json()["results"]]
    assert bodies == ["comment 0", "comment 2", "comment 3", "comment 4"]
    assert first["results"][0]["author"]["display_name"] == "Bob B."
    assert first["results"][0]["post_title"] == "Talk"
    assert second.json()["next_cursor"] is None
    assert get("post-comment-list", kwargs={"post_id": 999_999}).status_code == 404


def test_authors_directory_with_counts_and_search(story: Story, get: Callable[..., Any]) -> None:
    ada, bob = story.register("ada", "Ada Lovelace"), story.register("bob", "Bob Builder")
    story.register("carol", "Carol Danvers")
    story.post(ada, "One")
    story.post(ada, "Two")
    story.post(ada, "Draft", publish=False)
    story.comment(story.post(bob, "Bob's"), ada)
    users.user_profile_change(user_id=bob.user_id, actor=bob, bio="Builds bridges", uow=story.uow)
    story.project()

    everyone = get("author-list").json()
    assert [a["username"] for a in everyone["results"]] == ["ada", "bob", "carol"]
    ada_doc = everyone["results"][0]
    assert (ada_doc["published_post_count"], ada_doc["comment_count"]) == (2, 1)
    assert [a["username"] for a in get("author-list", {"q": "bridges"}).json()["results"]] == ["bob"]
    assert [a["username"] for a in get("author-list", {"q": "CA"}).json()["results"]] == ["carol"]  # username prefix
    paged = get("author-list", {"page_size": 2}).json()
    rest = get("author-list", {"page_size": 2, "cursor": paged["next_cursor"]}).json()
    assert [a["username"] for a in paged["results"] + rest["results"]] == ["ada", "bob", "carol"]


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("ca*", None),  # query syntax: not a username prefix, only ever text (may match Carol's name)
        ("c?rol", []),
        ("ca.*", []),
        (".*", []),
        ('"ca', None),
        ("(ca", None),
        ("ca\\", None),
        ("ca~2", ["ada"]),  # simple_query_string's own operators (fuzzy, NOT) work on names and bios, never on
        ("+ca -x", ["ada", "carol"]),  # usernames or other fields: "ada" is two edits from "ca"; neither has "x"
        ("ca OR 1", None),
        ("username:carol", None),  # no field addressed: at most the word "carol" in a name
        ("_exists_:username", []),
        ('{"prefix": {"username": "c"}}', []),
        ("İ" * 100, []),
        ("c" * 100, []),
        ("CaR", ["carol"]),  # a username prefix, whatever its case
        ("car_", []),
    ],
)
def test_a_hostile_author_prefix_is_a_200_with_sane_results(
    story: Story, get: Callable[..., Any], q: str, found: list[str] | None
) -> None:
    story.register("ada", "Ada Lovelace")
    story.register("carol", "Carol Danvers")
    story.project()

    response = get("author-list", {"q": q})

    assert response.status_code == 200, (q, response.json())
    usernames = [author["username"] for author in response.json()["results"]]
    if found is None:
        assert set(usernames) <= {"carol"}, (q, usernames)  # at most a match of Carol's name: never Ada
    else:
        assert usernames == found, q


def test_tag_facets_count_the_current_filter(story: Story, get: Callable[..., Any]) -> None:
    ada, bob = story.register("ada"), story.register("bob")
    story.post(ada, "Snakes", tags=("python", "animals"))
    story.post(ada, "Code", tags=("python", "web"))
    story.post(bob, "Web", tags=("web",))
    story.post(bob, "Draft", tags=("python",), publish=False)
    story.project()

    assert get("post-tag-facets").json()["results"] == [
        {"tag": "python", "count": 2}, {"tag": "web", "count": 2}, {"tag": "animals", "count": 1}
    ]  # fmt: skip
    assert get("post-tag-facets", {"author": bob.user_id}).json()["results"] == [{"tag": "web", "count": 1}]
    assert get("post-tag-facets", {"tag": "python"}).json()["results"] == [
        {"tag": "python", "count": 2}, {"tag": "animals", "count": 1}, {"tag": "web", "count": 1}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("post-search", {"sort": "oldest"}, "sort"),
        ("post-search", {"page_size": "ten"}, "page_size"),
        ("post-search", {"page_size": "0"}, "page_size"),
        ("post-search", {"published_after": "yesterday"}, "published_after"),
        ("post-search", {"published_after": "2026-02-01", "published_before": "2026-01-01"}, "published_before"),
        ("post-search", {"author": "ada"}, "author"),
        ("post-search", {"tag": "no spaces"}, "tag"),
        ("post-search", {"tag": [f"t{n}" for n in range(11)]}, "tag"),
        ("post-search", {"q": "x" * 201}, "q"),
        ("post-search", {"tags": "python"}, "tags"),
        ("post-search", {"cursor": "not-a-cursor"}, "cursor"),
        ("post-search", {"cursor": "eyJrIjoiYWJjIiwiYSI6WzEsIjIiXX0"}, "cursor"),  # another query's cursor
        ("post-tag-facets", {"cursor": "abc"}, "cursor"),
        ("author-list", {"sort": "newest"}, "sort"),
    ],
)
def test_malformed_parameters_get_400_naming_the_field(
    story: Story, get: Callable[..., Any], name: str, params: dict[str, Any], field: str
) -> None:
    response = get(name, params)

    assert response.status_code == 400
    assert field in response.json()["fields"], response.json()


def test_hostile_query_text_is_only_ever_text(story: Story, get: Callable[..., Any]) -> None:
    ada = story.register("ada")
    story.post(ada, "Plain", content="plain words")
    story.project()
    for q in ["title:Plain OR _exists_:status", '"unclosed', "((((", "*", "plain AND NOT", '{"script": 1}', "\\"]:
        response = get("post-search", {"q": q, "sort": "relevance"})
        assert response.status_code == 200, (q, response.json())


def test_cursor_from_another_sort_is_refused(story: Story, get: Callable[..., Any]) -> None:
    ada = story.register("ada")
    for number in range(3):
        story.post(ada, f"Post {number}")
    story.project()
    cursor = get("post-search", {"page_size": 1}).json()["next_cursor"]

    response = get("post-search", {"page_size": 1, "cursor": cursor, "sort": "most_commented"})

    assert response.status_code == 400
    assert "different query" in response.json()["fields"]["cursor"][0]


def test_a_consistency_token_waits_until_the_write_is_searchable(story: Story, get: Callable[..., Any]) -> None:
    ada = story.register("ada")
    story.project()
    post_id = story.post(ada, "Fresh off the press")
    token = story.last_written()
    answered = threading.Event()
    projected_while_unanswered: list[bool] = []

    def project_while_the_request_waits() -> None:
        time.sleep(0.5)  # pacing, not a proof: the request is under way by then and has found the post missing
        projected_while_unanswered.append(not answered.is_set())
        story.project()

    projector = threading.Thread(target=project_while_the_request_waits)
    projector.start()

    response = get("post-search", token=f"{token.aggregate_type}:{post_id}:{token.version}")

    answered.set()
    projector.join()
    assert projected_while_unanswered == [True]  # the answer waited for the projection (how long: bench-ryw)
    assert response["X-Consistency-Status"] == "consistent"
    assert [post["id"] for post in response.json()["results"]] == [str(post_id)]


def test_a_consistency_token_not_reached_in_time_answers_stale(story: Story, get: Callable[..., Any]) -> None:
    ada = story.register("ada")
    post_id = story.post(ada, "Never projected")

    with override_settings(CONSISTENCY_WAIT_SECONDS=0.3):
        response = get("post-search", token=f"post:{post_id}:2")

    assert response.status_code == 200
    assert response["X-Consistency-Status"] == "stale"
    assert response.json()["results"] == []


def _hidden_and_unknown_tokens(story: Story) -> dict[str, tuple[str, str]]:
    """For each aggregate type, a token naming content the lists do not show, and one naming an unknown id."""
    ada, bob = story.register("ada"), story.register("bob")
    draft = story.post(ada, "SECRET plans", publish=False)
    draft_version = story.last_written().version
    unpublished = story.post(ada, "Was public")
    story.comment(unpublished, bob, "on a post that leaves the lists")
    comment_id, comment_version = story.last_written().aggregate_id, story.last_written().version
    posts.post_unpublish(post_id=unpublished, actor=ada, uow=story.uow)
    deleted = story.comment(story.post(ada, "Public"), bob, "soon gone")
    comments.comment_delete(comment_id=deleted, actor=bob, uow=story.uow)
    deleted_version = story.last_written().version
    story.project()
    return {
        "draft": (f"post:{draft}:{draft_version}", "post:999999:1"),
        "comment of an unpublished post": (f"comment:{comment_id}:{comment_version}", "comment:999999:1"),
        "deleted comment": (f"comment:{deleted}:{deleted_version}", "comment:999998:1"),
    }


def test_a_token_naming_content_the_lists_do_not_show_answers_like_an_unknown_id(
    story: Story, get: Callable[..., Any]
) -> None:
    with override_settings(CONSISTENCY_WAIT_SECONDS=0.3):
        for what, (hidden, unknown) in _hidden_and_unknown_tokens(story).items():
            shown, absent = (get("post-search", token=token) for token in (hidden, unknown))

            for response in (shown, absent):
                assert (response.status_code, response["X-Consistency-Status"]) == (200, "stale"), what
            assert shown.json()["results"] == absent.json()["results"], what
            assert "SECRET" not in repr(shown.json()), what


def _searches_by_index() -> dict[str, int]:
    """OpenSearch's own count of the queries each index has served so far (shard-level `query_total`)."""
    stats = opensearch().indices.stats(metric="search")["indices"]
    return {index: entry["total"]["search"]["query_total"] for index, entry in stats.items()}


def _searches_made_by[T](call: Callable[[], T]) -> tuple[T, dict[str, int]]:
    """What `call` returned, and the queries per index it made, as the search engine counted them."""
    before = _searches_by_index()
    result = call()
    after = _searches_by_index()
    return result, {
        index: total - before.get(index, 0) for index, total in after.items() if total != before.get(index, 0)
    }


def test_a_token_naming_hidden_content_costs_the_same_searches_as_an_unknown_one(story: Story) -> None:
    for what, (hidden, unknown) in _hidden_and_unknown_tokens(story).items():
        answers = [
            _searches_made_by(partial(version_visible, client=opensearch(), token=token_parse(token)))
            for token in (hidden, unknown)
        ]
        assert [visible for visible, _ in answers] == [False, False], what
        made = [searches for _, searches in answers]
        assert made[0] == made[1], what  # one poll of each: the same queries on the same indices
        assert made[0], what  # and the poll did search


def test_a_token_of_a_public_comment_is_consistent_once_searchable(story: Story, get: Callable[..., Any]) -> None:
    ada = story.register("ada")
    story.comment(story.post(ada, "Open"), ada, "visible")
    written = story.last_written()
    story.project()

    response = get("post-search", token=f"comment:{written.aggregate_id}:{written.version}")

    assert response["X-Consistency-Status"] == "consistent"


@pytest.mark.parametrize("token", ["post:1", "post:a:1", "blog:1:1", "post:1:1:1", ""])
def test_a_malformed_consistency_token_gets_400(story: Story, get: Callable[..., Any], token: str) -> None:
    response = get("post-search", token=token)

    assert response.status_code == 400
    assert "X-Consistency-Token" in response.json()["fields"]


def test_every_list_says_how_fresh_the_read_model_is(story: Story, get: Callable[..., Any]) -> None:
    ada = story.register("ada")
    post_id = story.post(ada, "Timed")
    story.comment(post_id, ada)
    before = datetime.now(UTC)
    story.project()
    after = datetime.now(UTC)

    for name, kwargs in (("post-search", None), ("author-list", None), ("post-tag-facets", None),
                         ("post-comment-list", {"post_id": post_id})):  # fmt: skip
        response = get(name, kwargs=kwargs)
        assert response.status_code == 200
        freshness = response.json()["freshness"]
        assert freshness["last_event_at"] == story.uow.clock.isoformat()
        updated_at = datetime.fromisoformat(freshness["updated_at"])
        assert before <= updated_at <= after  # when that batch became searchable
        # commit-to-searchable: from the (fake, long past) commit time of the newest event to then
        assert freshness["age_seconds"] == round((updated_at - story.uow.clock).total_seconds(), 3)
        assert response["X-Read-Model-Last-Event-At"] == freshness["last_event_at"]
        assert response["X-Read-Model-Updated-At"] == freshness["updated_at"]
        assert float(response["X-Read-Model-Age"]) == freshness["age_seconds"]


def test_an_unreadable_freshness_record_leaves_freshness_unknown_and_the_list_answers(
    story: Story, get: Callable[..., Any]
) -> None:
    story.post(story.register("ada"), "Still listed")
    story.project()
    story.notices.client.hset(freshness_key(), GROUP, b"{not json")

    response = get("post-search")

    assert response.status_code == 200
    assert [post["title"] for post in response.json()["results"]] == ["Still listed"]
    assert response.json()["freshness"] is None
    assert not response.has_header("X-Read-Model-Age")


def test_unreachable_opensearch_gets_503_with_retry_after(
    story: Story, free_port: Callable[[], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENSEARCH_URL", f"http://127.0.0.1:{free_port()}")
    opensearch.cache_clear()
    client = APIClient()
    try:
        for path in ("/api/v1/posts/?q=x", "/api/v1/posts/tags/", "/api/v1/posts/1/comments/", "/api/v1/authors/"):
            response = client.get(path, headers={"X-Consistency-Token": "post:1:1"})
            assert response.status_code == 503, path
            assert response["Retry-After"] == "5"
            assert "unavailable" in response.json()["message"]
    finally:
        opensearch.cache_clear()


def test_missing_read_models_get_503_not_500(
    story: Story, get: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROJECTOR_INDEX_PREFIX", "never-built-")

    response = get("post-search")

    assert response.status_code == 503
    assert "projector" in response.json()["message"]
