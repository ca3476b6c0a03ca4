"""Subscribers get what the lists show, as it becomes searchable, filtered as they asked (in process, real services).

Events come from the command service's own services, projected by the projector's writer, announced by its
notices; a fan-out runs in a thread; connections go through the ASGI application with Channels' communicator.
"""

from __future__ import annotations

from command_service.services import comments, posts, users
from tests.integration.query_service.conftest import Story
from tests.integration.query_service.stream_support import (
    connect,
    fanout_thread,
    frames,
    frames_until,
    group_size,
    kinds,
    run,
    subscribe,
)


def test_subscribers_get_public_events_with_their_documents_in_stream_order(story: Story) -> None:
    async def scenario() -> None:
        with fanout_thread():
            client = await connect()
            await subscribe(client)
            ann, bob = story.register("ann"), story.register("bob")
            post_id = story.post(ann, "Hello", "Public words.", tags=("python",))
            story.post(ann, "Secret plan", "Draft words.", publish=False)
            comment_id = story.comment(post_id, bob, "First!")
            story.project()
            marker = story.register("marker")  # announced after all of the above
            story.project()
            *received, _ = await frames_until(client, ("user.registered", str(marker.user_id)))
            await client.disconnect()
        positions = [frame["position"] for frame in received]
        assert positions == sorted(positions, key=lambda p: tuple(map(int, p.split("-"))))
        assert sorted(kinds(received)) == [
            ("comment.added", str(comment_id)), ("post.published", str(post_id)),
            ("user.registered", str(ann.user_id)), ("user.registered", str(bob.user_id)),
        ]  # fmt: skip
        by_type = {frame["event"]["event_type"]: frame for frame in received}
        post = by_type["post.published"]["document"]
        assert (post["title"], post["status"], post["tags"], post["author"]["username"]) == (
            "Hello", "published", ["python"], "ann"
        )  # fmt: skip
        assert "field_versions" not in post
        assert by_type["comment.added"]["document"]["body"] == "First!"
        assert all(frame["type"] == "event" and frame["document"] for frame in received)
        assert "Secret plan" not in repr(received)
        assert "Draft words" not in repr(received)

    run(scenario)


def test_drafts_never_go_out_and_a_post_leaving_the_lists_goes_out_without_document(story: Story) -> None:
    ann = story.register("ann")
    public = story.post(ann, "Public", tags=("x",))
    story.project()

    async def scenario() -> None:
        with fanout_thread():
            client = await connect()
            await subscribe(client)
            draft = story.post(ann, "Draft title", "Draft body", tags=("x",), publish=False)
            posts.post_edit(post_id=draft, actor=ann, title="Still a draft", content="Hidden", uow=story.uow)
            posts.post_archive(post_id=draft, actor=ann, uow=story.uow)
            story.project()
            posts.post_unpublish(post_id=public, actor=ann, uow=story.uow)
            story.project()  # its own batch: an event later in the same batch supersedes it (and has no notice)
            posts.post_edit(post_id=public, actor=ann, title="Back to draft", content="Hidden too", uow=story.uow)
            story.project()  # the removal still goes out when the fan-out reads it after this: the post is not public
            marker = story.register("marker")  # announced after all of the above
            story.project()
            *received, _ = await frames_until(client, ("user.registered", str(marker.user_id)))
            await client.disconnect()
        assert kinds(received) == [("post.unpublished", str(public))]
        assert received[0]["document"] is None
        assert "draft" not in repr(received).lower()
        assert "Hidden" not in repr(received)

    run(scenario)


def test_comment_events_follow_their_posts_visibility(story: Story) -> None:
    ann, bob = story.register("ann"), story.register("bob")
    post_id = story.post(ann, "Public", tags=("x",))
    comment_id = story.comment(post_id, bob)
    elsewhere = story.post(ann, "Stays public")
    story.project()

    async def scenario() -> None:
        with fanout_thread():
            client = await connect()
            await subscribe(client, aggregate_types=["comment"])
            comments.comment_delete(comment_id=comment_id, actor=bob, uow=story.uow)
            story.project()
            deleted = await frames(client, 1)
            posts.post_unpublish(post_id=post_id, actor=ann, uow=story.uow)
            story.project()
            posts.post_publish(post_id=post_id, actor=ann, uow=story.uow)
            later = story.comment(post_id, bob, "Again")
            posts.post_unpublish(post_id=post_id, actor=ann, uow=story.uow)
            story.project()  # the post is a draft again by the time the fan-out looks it up
            marker = story.comment(elsewhere, bob, "On a public post")  # announced after all of the above
            story.project()
            *between, _ = await frames_until(client, ("comment.added", str(marker)))
            await client.disconnect()
        assert kinds(deleted) == [("comment.deleted", str(comment_id))]
        assert deleted[0]["document"] is None
        assert kinds(between) == [], f"comment {later}, on a post that is a draft again, must not go out"

    run(scenario)


def test_filters_by_aggregate_type_tag_and_author(story: Story) -> None:
    ann, bob = story.register("ann"), story.register("bob")
    story.project()

    async def scenario() -> None:
        with fanout_thread():
            by_type, by_tag, by_author, everything = [await connect() for _ in range(4)]
            await subscribe(by_type, aggregate_types=["post"])
            await subscribe(by_tag, tags=["python", "go"])
            await subscribe(by_author, author_id=str(ann.user_id))
            await subscribe(everything)
            python_post = story.post(ann, "Python", tags=("python", "web"))
            rust_post = story.post(bob, "Rust", tags=("rust",))
            on_python = story.comment(python_post, bob)
            on_rust = story.comment(rust_post, ann)
            users.user_profile_change(user_id=ann.user_id, actor=ann, display_name="Ann B", uow=story.uow)
            story.project()
            marker = story.post(ann, "Marker", tags=("python",))  # announced after the above; every filter takes it
            story.project()
            last = ("post.published", str(marker))
            got = {
                "type": kinds(await frames_until(by_type, last))[:-1],
                "tag": kinds(await frames_until(by_tag, last))[:-1],
                "author": kinds(await frames_until(by_author, last))[:-1],
                "all": kinds(await frames_until(everything, last))[:-1],
            }
            assert group_size() == 4
            for client in (by_type, by_tag, by_author, everything):
                await client.disconnect()
            assert group_size() == 0
        published = [("post.published", str(python_post)), ("post.published", str(rust_post))]
        assert sorted(got["type"]) == published
        assert sorted(got["tag"]) == [("comment.added", str(on_python)), published[0]]
        assert sorted(got["author"]) == [
            ("comment.added", str(on_rust)), published[0], ("user.profile_changed", str(ann.user_id))
        ]  # fmt: skip
        assert sorted(got["all"]) == sorted([
            ("comment.added", str(on_python)), ("comment.added", str(on_rust)), *published,
            ("user.profile_changed", str(ann.user_id)),
        ])  # fmt: skip

    run(scenario)
