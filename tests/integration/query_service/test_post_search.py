"""The posts list and search, served from OpenSearch read models the projector built from real events."""

from __future__ import annotations

from collections.abc import Callable
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
    assert "content" not in post and post["content_preview"]
    assert response.json()["total"] == 2
