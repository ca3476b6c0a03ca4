"""Read-your-writes from a real command response, through the outbox relay, Kafka and the projector."""

from __future__ import annotations

from tests.e2e.conftest import System


def test_the_consistency_token_of_a_write_makes_the_next_read_see_it(system: System) -> None:
    user_id, token = system.user("ryw_author", "Reads Own Writes")
    for round_number in range(5):
        created = system.command("POST", "posts/", {"title": f"Fresh {round_number}", "content": "Hot news.",
                                                    "tags": ["ryw"]}, token)  # fmt: skip
        assert created.status == 201, created.body
        post_id = created.body["id"]
        published = system.command("POST", f"posts/{post_id}/publish/", {}, token)
        assert published.status == 200, published.body
        consistency = published.headers["x-consistency-token"]
        assert consistency == f"post:{post_id}:2"

        listed = system.query("posts/", {"tag": "ryw", "author": user_id}, consistency=consistency)

        assert listed.status == 200
        assert listed.headers["x-consistency-status"] == "consistent"
        assert str(post_id) in [post["id"] for post in listed.body["results"]]
        assert listed.body["results"][0]["author"]["display_name"] == "Reads Own Writes"
