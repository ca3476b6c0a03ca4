"""A user's whole story through the public HTTP APIs only, on PostgreSQL: every write shows up, denormalized, in
the query service's lists and search; the consistency token gives read-your-writes; `verify` is clean at the end."""

from __future__ import annotations

from tests.e2e.conftest import System, eventually


def test_register_write_publish_comment_rename_delete_then_lists_and_search_agree(system: System) -> None:
    author_id, author = system.user("flow_author", "Flo Writer")
    reader_id, reader = system.user("flow_reader", "Rea Der")

    text = "Long-billed birds gliding low over the mudflats at dawn. " * 20
    created = system.command("POST", "posts/", {"title": "Pelicans of the estuary", "content": text,
                                                "tags": ["birds", "coast"]}, author)  # fmt: skip
    assert created.status == 201, created.body
    post_id = str(created.body["id"])
    doomed = system.command("POST", "posts/", {"title": "Doomed post", "content": "Soon gone.", "tags": ["birds"]},
                            author)  # fmt: skip
    doomed_id = str(doomed.body["id"])
    for target in (post_id, doomed_id):
        assert system.command("POST", f"posts/{target}/publish/", {}, author).status == 200
    comment = system.command("POST", f"posts/{post_id}/comments/", {"body": "Lovely birds!"}, reader)
    assert comment.status == 201, comment.body
    second = system.command("POST", f"posts/{post_id}/comments/", {"body": "Where exactly?"}, reader)
    renamed = system.command("PATCH", f"users/{author_id}/", {"display_name": "Flo Renamed"}, author)
    assert renamed.status == 200, renamed.body
    deleted = system.command("DELETE", f"posts/{doomed_id}/", None, author)
    assert deleted.status == 204
    removed = system.command("DELETE", f"comments/{second.body['id']}/", None, reader)
    assert removed.status == 204

    # The rename's token: once the author's profile is searchable at that version, so are the rewrites.
    rename_token = renamed.headers["x-consistency-token"]
    # A deletion's token names content the lists no longer show: it answers like an unknown id (`stale` after the
    # whole wait: no existence oracle), so the list is awaited instead.
    listed = system.query("posts/", {"tag": "birds"}, consistency=deleted.headers["x-consistency-token"])
    assert listed.headers["x-consistency-status"] == "stale"

    def without_the_deleted_post() -> list[str] | None:
        ids = [post["id"] for post in system.query("posts/", {"tag": "birds"}).body["results"]]
        return ids if ids == [post_id] else None

    assert eventually(without_the_deleted_post) == [post_id]  # the deleted post is gone

    def converged() -> dict | None:
        found = system.query("posts/", {"q": "pelican", "sort": "relevance"}, consistency=rename_token).body
        post = found["results"][0] if found["results"] else None
        ok = post and post["author"]["display_name"] == "Flo Renamed" and post["comment_count"] == 1
        return post if ok else None

    post = eventually(converged)
    assert post["tags"] == ["birds", "coast"]
    assert "<mark>Pelicans</mark>" in post["highlights"]["title"][0]
    comments = system.query(f"posts/{post_id}/comments/").body["results"]
    assert [c["body"] for c in comments] == ["Lovely birds!"]
    assert comments[0]["author"]["display_name"] == "Rea Der"
    authors = {a["id"]: a for a in system.query("authors/", {"q": "flow"}).body["results"]}
    assert authors[author_id]["display_name"] == "Flo Renamed"
    assert authors[author_id]["published_post_count"] == 1
    assert authors[reader_id]["comment_count"] == 1
    facets = system.query("posts/tags/", {"author": author_id}).body["results"]
    assert facets == [{"tag": "birds", "count": 1}, {"tag": "coast", "count": 1}]
    assert system.query(f"posts/{doomed_id}/comments/").status == 404

    verified = system.verify()
    assert verified.returncode == 0, verified.stdout + verified.stderr
