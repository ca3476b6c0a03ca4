"""A staff member moderates in the Django admin through a real browser session (HTTP, session cookie, CSRF) on the
running system: what they hide leaves the query API, what they deactivate can no longer sign in, and `verify` finds
every read-model document in step with the command database afterwards."""

from __future__ import annotations

import http.cookiejar
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from typing import Any

from tests.e2e.conftest import REPO_ROOT, System, eventually

PASSWORD = "e2e-Moderator-pass-7391"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser:
    """A browser session against one site: cookies kept, redirects followed, CSRF token taken from each form."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(f"{self.base}{path}", timeout=30) as response:
            return response.read().decode()

    def submit(self, path: str, fields: dict[str, Any]) -> str:
        """Load the form at `path`, then post `fields` with its CSRF token, as the browser does; the page it ends on."""
        token = CSRF_INPUT.search(self.get(path))
        assert token is not None, f"no form with a CSRF token at {path}"
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), **fields}, doseq=True).encode()
        request = urllib.request.Request(f"{self.base}{path}", data=body, headers={"Referer": f"{self.base}{path}"})
        with self.opener.open(request, timeout=30) as response:
            return response.read().decode()


def messages_in(page: str) -> list[str]:
    """The admin's messages on a page (for a failing assertion's report)."""
    return re.findall(r"<li class=\"[a-z]+\">(.*?)</li>", page, re.S)


def createsuperuser(system: System, username: str) -> None:
    """`python -m command_service createsuperuser --noinput` against the system's database."""
    done = subprocess.run(
        [sys.executable, "-m", "command_service", "createsuperuser", "--noinput", "--username", username,
         "--display_name", "E2E Moderator"],
        cwd=REPO_ROOT, env={**system.env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD}, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_post_hidden_and_an_author_deactivated_in_the_admin_leave_the_read_side_verified(system: System) -> None:
    author_id, author = system.user("adm_author", "Adm Author")
    created = system.command("POST", "posts/", {"title": "Moderated post", "content": "Spam.", "tags": ["adm"]}, author)
    post_id = str(created.body["id"])
    published = system.command("POST", f"posts/{post_id}/publish/", {}, author)
    assert published.status == 200, published.body
    listed = system.query("posts/", {"tag": "adm"}, consistency=published.headers["x-consistency-token"])
    assert [post["id"] for post in listed.body["results"]] == [post_id]
    createsuperuser(system, "adm_moderator")

    browser = Browser(f"http://127.0.0.1:{system.command_port}")
    welcome = browser.submit("/admin/login/?next=/admin/", {"username": "adm_moderator", "password": PASSWORD})
    assert "Log out" in welcome or "logout" in welcome, welcome[:2000]
    page = browser.submit("/admin/posts/post/", {"action": "hide", "_selected_action": [post_id]})
    assert f"Post {post_id}: hide (unpublish) selected posts: done, now version 3" in page, messages_in(page)

    def hidden() -> bool:
        authors = system.query("authors/", {"q": "adm_author"}).body["results"]
        counted = [a["published_post_count"] for a in authors if a["id"] == author_id] == [0]
        return counted and system.query("posts/", {"tag": "adm"}).body["results"] == []

    assert eventually(hidden)
    assert system.query(f"posts/{post_id}/comments/").status == 404

    page = browser.submit("/admin/users/user/", {"action": "deactivate", "_selected_action": [author_id]})
    assert f"User {author_id}: deactivate selected users: done, now version 2" in page, messages_in(page)
    login = system.command("POST", "auth/token/", {"username": "adm_author", "password": "correct-horse-battery"})
    assert login.status == 401, login.body
    assert system.command("POST", "posts/", {"title": "t", "content": "c"}, author).status == 401

    # The deactivation moves the author's version, in the authors document and every post embedding the author.
    verified = eventually(lambda: (done := system.verify()).returncode == 0 and done, timeout=60, pause=0.5)
    assert "OK: every document matches" in verified.stdout
