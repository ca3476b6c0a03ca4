"""The posts list and search, served from OpenSearch read models the projector built from real events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tests.integration.query_service.conftest import Story


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.json()
    return [post["id"] for post in response.json()["results"]]


def test_lists_only_published_posts_newest_first_with_denormalized_author(
    story: Story, get: Callable[..., Any]
) -> None:
    ada = story.register("ada", "Ada Lovelace")
    first = story.post(ada, "First", tags=("python",))
    story.uow.advance(hours=1)
    second = story.post(ada, "Second", tags=("django",))
    story.post(ada, "A draft", publish=False)
    story.project()

    response = get("post-search")

    assert ids(response) == [str(second), str(first)]
    post = response.json()["results"][0]
    assert post["author"]["display_name"] == "Ada Lovelace"
    assert post["tags"] == ["django"]
    assert post["comment_count"] == 0
    assert "content" not in post
    assert post["content_preview"]
    assert response.json()["total"] == 2


def test_full_text_search_over_title_content_and_tags_with_escaped_highlights(
    story: Story, get: Callable[..., Any]
) -> None:
    ada = story.register("ada")
    in_title = story.post(ada, "Running a marathon", content="A long story about feet.")
    in_content = story.post(ada, "Weekend", content="We went running <b>twice</b> near the lake.")
    in_tags = story.post(ada, "Shoes", content="About shoes.", tags=("running",))
    story.post(ada, "Cooking", content="Pasta and sauce.")
    story.project()

    response = get("post-search", {"q": "run", "sort": "relevance"})

    assert ids(response)[0] == str(in_title)  # title weighs most
    assert set(ids(response)) == {str(in_title), str(in_content), str(in_tags)}  # stemmed: run ~ running
    by_id = {post["id"]: post for post in response.json()["results"]}
    assert by_id[str(in_title)]["highlights"]["title"] == ["<mark>Running</mark> a marathon"]
    fragment = by_id[str(in_content)]["highlights"]["content"][0]
    assert "<mark>running</mark>" in fragment
    assert "&lt;b&gt;twice&lt;&#x2F;b&gt;" in fragment


def test_filters_by_tags_author_and_publication_window(story: Story, get: Callable[..., Any]) -> None:
    ada, bob = story.register("ada"), story.register("bob")
    early = story.post(ada, "Early", tags=("python", "web"))
    story.uow.advance(days=2)
    late_ada = story.post(ada, "Late", tags=("python",))
    late_bob = story.post(bob, "Bob's", tags=("python", "web"))
    story.project()
    cutoff = (story.uow.clock - timedelta(days=1)).isoformat()

    assert set(ids(get("post-search", {"tag": ["python", "web"]}))) == {str(early), str(late_bob)}  # all tags
    assert set(ids(get("post-search", {"tag": "PYTHON"}))) == {str(early), str(late_ada), str(late_bob)}
    assert set(ids(get("post-search", {"author": ada.user_id}))) == {str(early), str(late_ada)}
    assert set(ids(get("post-search", {"published_after": cutoff}))) == {str(late_ada), str(late_bob)}
    assert ids(get("post-search", {"published_before": cutoff})) == [str(early)]
    assert ids(get("post-search", {"published_after": cutoff, "author": bob.user_id, "tag": "web"})) == [str(late_bob)]


def test_most_commented_sort_and_exact_comment_counts(story: Story, get: Callable[..., Any]) -> None:
    ada, bob = story.register("ada"), story.register("bob")
    quiet, busy, medium = (story.post(ada, name) for name in ("Quiet", "Busy", "Medium"))
    for _ in range(3):
        story.comment(busy, bob)
    story.comment(medium, bob)
    story.project()

    response = get("post-search", {"sort": "most_commented"})

    assert ids(response) == [str(busy), str(medium), str(quiet)]
    assert [post["comment_count"] for post in response.json()["results"]] == [3, 1, 0]


def test_cursor_pages_walk_every_post_once_in_order(story: Story, get: Callable[..., Any]) -> None:
    ada = story.register("ada")
    created = []
    for number in range(23):
        created.append(str(story.post(ada, f"Post {number}")))
        if number % 5:  # several posts share a publication time: the id tiebreaker keeps the order stable
            story.uow.advance(minutes=-1)
    story.project()

    seen, params, pages = [], {"page_size": 5}, 0
    while True:
        response = get("post-search", params)
        body = response.json()
        seen += ids(response)
        pages += 1
        if not body["next_cursor"]:
            break
        assert body["next"].startswith("http://testserver/api/v1/posts/?")
        params = {"page_size": 5, "cursor": body["next_cursor"]}

    assert sorted(seen) == sorted(created)
    assert len(seen) == len(set(seen)) == 23
    assert pages == 5
    whole = ids(get("post-search", {"page_size": 100}))
    assert seen == whole


def test_page_size_defaults_to_page_size_default_and_is_capped_at_page_size_max(
    story: Story, get: Callable[..., Any]
) -> None:
    from django.conf import settings

    assert (settings.PAGE_SIZE_DEFAULT, settings.PAGE_SIZE_MAX) == (20, 100)
    count = settings.PAGE_SIZE_MAX + 5  # more than a capped page holds
    ada = story.register("ada")
    newest_first = [str(story.post(ada, f"Post {number}")) for number in range(count)][::-1]
    story.project()  # one batch: the projector's bulk writes

    default = get("post-search").json()
    capped = get("post-search", {"page_size": 100_000}).json()
    exact = get("post-search", {"page_size": settings.PAGE_SIZE_MAX}).json()
    rest = get("post-search", {"page_size": 100_000, "cursor": capped["next_cursor"]}).json()
    after_default = get("post-search", {"cursor": default["next_cursor"]}).json()

    assert [post["id"] for post in default["results"]] == newest_first[: settings.PAGE_SIZE_DEFAULT]
    assert default["next_cursor"]
    assert default["total"] == count
    assert [post["id"] for post in after_default["results"]] == newest_first[20:40]  # the default again
    assert [post["id"] for post in capped["results"]] == newest_first[: settings.PAGE_SIZE_MAX]
    assert exact["results"] == capped["results"]
    assert capped["next_cursor"]
    assert [post["id"] for post in rest["results"]] == newest_first[settings.PAGE_SIZE_MAX :]
    assert rest["next_cursor"] is None


def test_no_parameter_combination_serves_a_draft_or_a_removed_post(story: Story, get: Callable[..., Any]) -> None:
    from command_service.services import posts

    ada = story.register("ada")
    public = story.post(ada, "Secret public", content="secret words", tags=("secret",))
    story.post(ada, "Secret draft", content="secret words", tags=("secret",), publish=False)
    hidden = {}
    for name, change in (
        ("unpublished", posts.post_unpublish),
        ("archived", posts.post_archive),
        ("deleted", posts.post_delete),
    ):
        hidden[name] = story.post(ada, f"Secret {name}", content="secret words", tags=("secret",))
        story.comment(hidden[name], ada)
        change(post_id=hidden[name], actor=ada, uow=story.uow)
    story.project()

    combinations = [
        {}, {"q": "secret"}, {"tag": "secret"}, {"author": ada.user_id}, {"sort": "most_commented"},
        {"sort": "relevance", "q": "secret draft"}, {"q": "draft"}, {"q": "unpublished archived deleted"},
        {"published_after": "2000-01-01", "tag": ["secret"]},
    ]  # fmt: skip
    for params in combinations:
        assert set(ids(get("post-search", params))) <= {str(public)}, params
    facets = get("post-tag-facets", {"tag": "secret"}).json()["results"]
    assert facets == [{"tag": "secret", "count": 1}]
    for post_id in hidden.values():
        assert get("post-comment-list", kwargs={"post_id": post_id}).status_code == 404
