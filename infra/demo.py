"""`python -m infra.demo [--url URL]`: seed realistic demo data through the command service's public HTTP API.

Only the API is used, never the database, so every write travels the way a client's does: outbox, Kafka, projector,
query side. Running it again is harmless: creations carry fixed `Idempotency-Key`s, so within a day the API replays
them instead of writing twice; an account that exists already is signed in with its demo password.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from infra.demo_data import COMMENTS, DELETED_COMMENT, PASSWORD, POSTS, RENAME, TAG_CHANGE, USERS
from infra.http_client import ApiClient, ApiError, Reply
from infra.procfile import COMMAND_PORT, QUERY_PORT


@dataclass
class DemoSummary:
    """What the demo created: ids by username and post key, comment ids in the order of COMMENTS."""

    users: dict[str, int] = field(default_factory=dict)
    posts: dict[str, int] = field(default_factory=dict)
    comments: list[int] = field(default_factory=list)


def seed(base_url: str) -> DemoSummary:
    """Create the demo users, posts, tags, comments, rename and deleted comment; print each step.

    Raises:
        ApiError: the command service does not answer, or refused a request (the message says which).
    """
    api = ApiClient(base_url)
    api.call("GET", "/health/").expect(200, what="the health check")
    summary = DemoSummary()
    tokens = {username: _user(api, username, display_name, summary) for username, display_name in USERS}
    for post in POSTS:
        token, key = tokens[post.author], f"demo-post-{post.key}"
        body = {"title": post.title, "content": post.content, "tags": list(post.tags)}
        reply = api.call("POST", "/api/v1/posts/", body, token=token, key=key).expect(201, what=f"post {post.key}")
        post_id = summary.posts[post.key] = reply.body["id"]
        if post.publish:
            publish = api.call("POST", f"/api/v1/posts/{post_id}/publish/", token=token, key=f"{key}-publish")
            publish.expect(200, what=f"publishing post {post_id}")
        state = "published" if post.publish else "left a draft"
        print(f"post {post_id} {post.title!r} by {post.author}, tags {', '.join(post.tags)}: {state}{_again(reply)}")
    post_key, tags = TAG_CHANGE
    post_id = summary.posts[post_key]
    author = next(post.author for post in POSTS if post.key == post_key)
    reply = api.call("PUT", f"/api/v1/posts/{post_id}/tags/", {"tags": list(tags)}, token=tokens[author])
    print(f"post {post_id} retagged: {', '.join(reply.expect(200, what=f'tags of post {post_id}').body['tags'])}")
    for n, (author, post_key, text) in enumerate(COMMENTS):
        path, key = f"/api/v1/posts/{summary.posts[post_key]}/comments/", f"demo-comment-{n}"
        reply = api.call("POST", path, {"body": text}, token=tokens[author], key=key).expect(201, what="a comment")
        summary.comments.append(reply.body["id"])
        print(f"comment {reply.body['id']} by {author} on post {summary.posts[post_key]}{_again(reply)}")
    _delete_comment(api, summary.comments[DELETED_COMMENT], tokens[COMMENTS[DELETED_COMMENT][0]])
    _rename(api, summary.users[RENAME[0]], tokens[RENAME[0]], RENAME)
    return summary


def _user(api: ApiClient, username: str, display_name: str, summary: DemoSummary) -> str:
    """Register the user (or find them registered) and return their token."""
    body = {"username": username, "password": PASSWORD, "display_name": display_name}
    reply = api.call("POST", "/api/v1/users/", body)
    if reply.status != 409:
        reply.expect(201, what=f"registering {username}")
    credentials = {"username": username, "password": PASSWORD}
    token = api.call("POST", "/api/v1/auth/token/", credentials).expect(200, what=f"signing in as {username}").body
    summary.users[username] = token["user_id"]
    state = "already registered" if reply.status == 409 else "registered"
    print(f"user {username} (id {token['user_id']}) {display_name!r}: {state}")
    return token["token"]


def _delete_comment(api: ApiClient, comment_id: int, token: str) -> None:
    reply = api.call("DELETE", f"/api/v1/comments/{comment_id}/", token=token)
    if reply.status == 404:
        print(f"comment {comment_id} deleted by its author (already)")
        return
    reply.expect(204, what=f"deleting comment {comment_id}")
    print(f"comment {comment_id} deleted by its author")


def _rename(api: ApiClient, user_id: int, token: str, rename: tuple[str, str, str]) -> None:
    username, display_name, bio = rename
    before = api.call("GET", f"/api/v1/users/{user_id}/").expect(200, what=f"user {user_id}").body["display_name"]
    if before == display_name:
        print(f"user {username} renamed to {display_name!r} (already)")
        return
    body = {"display_name": display_name, "bio": bio}
    api.call("PATCH", f"/api/v1/users/{user_id}/", body, token=token).expect(200, what=f"renaming {username}")
    print(f"user {username} renamed: {before!r} -> {display_name!r} (their posts and comments follow)")


def _again(reply: Reply) -> str:
    return " (already there: replayed)" if reply.replayed else ""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m infra.demo`."""
    parser = argparse.ArgumentParser(
        prog="python -m infra.demo", description="Seed realistic demo data through the command service's HTTP API."
    )
    default = f"http://127.0.0.1:{COMMAND_PORT.value}"
    parser.add_argument("--url", default=default, help=f"the command service (default {default}, from COMMAND_PORT)")
    args = parser.parse_args(argv)
    try:
        summary = seed(args.url.rstrip("/"))
    except ApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"demo data in place: {len(summary.users)} users, {len(summary.posts)} posts, {len(summary.comments)} comments"
        " (one deleted). Searchable within a moment on the query API, e.g. "
        f"http://127.0.0.1:{QUERY_PORT.value}/api/v1/posts/?q=outbox"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
