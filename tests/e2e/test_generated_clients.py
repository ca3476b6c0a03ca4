"""The README's curl tour, through Python clients generated from the committed OpenAPI documents at test time.

openapi-python-client turns each document into a package (in a temporary directory, never committed); the tour reads
typed models from them (titles, statuses, counts, authors), so a document whose shapes are untyped, wrong or
rejected by the generator fails here as it would fail a client's developer.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.e2e.conftest import REPO_ROOT, System, eventually

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
SEARCHABLE_TIMEOUT = 30  # seconds for the projector to make a write searchable


def _generate(document: str, package: str, into: Path) -> None:
    """Generate `package` from docs/openapi/`document` into `into`; any generator warning fails."""
    config = into / f"{package}.yaml"
    config.write_text(f"project_name_override: {package}\npackage_name_override: {package}\npost_hooks: []\n")
    run = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(REPO_ROOT / "docs" / "openapi" / document), "--meta", "none",
         "--config", str(config), "--output-path", str(into / package), "--fail-on-warning"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ModuleType, ModuleType]]:
    """The generated `command_client` and `query_client` packages, importable for this module's tests."""
    into = tmp_path_factory.mktemp("clients")
    _generate("command-api.yaml", "command_client", into)
    _generate("query-api.yaml", "query_client", into)
    sys.path.insert(0, str(into))
    try:
        yield importlib.import_module("command_client"), importlib.import_module("query_client")
    finally:
        sys.path.remove(str(into))
        for name in [name for name in sys.modules if name.split(".")[0] in ("command_client", "query_client")]:
            del sys.modules[name]


def _api(package: ModuleType, operation: str) -> Any:
    """The generated module of one operation (`package.api.v1.<operation_id>`)."""
    return importlib.import_module(f"{package.__name__}.api.v1.{operation}")


def _models(package: ModuleType) -> Any:
    return importlib.import_module(f"{package.__name__}.models")


def test_the_curl_tour_through_clients_generated_from_the_documents(
    system: System, clients: tuple[ModuleType, ModuleType]
) -> None:
    command, query = clients
    cm, qm = _models(command), _models(query)
    anonymous = command.Client(base_url=f"http://127.0.0.1:{system.command_port}", raise_on_unexpected_status=True)

    # register, sign in
    body = cm.UserRegisterRequest(username="tour_ada", password="correct-horse-battery", display_name="Ada Tour")
    registered = _api(command, "user_register").sync(client=anonymous, body=body)
    assert isinstance(registered, cm.UserOutput), registered
    assert registered.username == "tour_ada"
    token = _api(command, "auth_token_obtain").sync(
        client=anonymous, body=cm.TokenObtainRequest(username="tour_ada", password="correct-horse-battery")
    )
    assert isinstance(token, cm.Token), token
    assert token.user_id == registered.id
    ada = command.AuthenticatedClient(
        base_url=f"http://127.0.0.1:{system.command_port}", token=token.token, prefix="Token",
        raise_on_unexpected_status=True,
    )  # fmt: skip

    # a draft, published with the ETag it was created at
    create = cm.PostCreateRequest(title="Hello", content="My first post about pelicans.", tags=["Birds"])
    created = _api(command, "post_create").sync_detailed(client=ada, body=create)
    draft = created.parsed
    assert isinstance(draft, cm.PostOutput), created.content
    assert (draft.title, draft.status, draft.tags, draft.author.username) == ("Hello", cm.StatusEnum.DRAFT, ["birds"],
                                                                              "tour_ada")  # fmt: skip
    published = _api(command, "post_publish").sync_detailed(draft.id, client=ada, if_match=created.headers["ETag"])
    assert isinstance(published.parsed, cm.PostOutput), published.content
    assert published.parsed.status == cm.StatusEnum.PUBLISHED
    assert published.parsed.published_at is not None
    assert published.headers["X-Consistency-Token"] == f"post:{draft.id}:2"

    # a comment, and the post as the command API shows it now
    comment = _api(command, "comment_add").sync(draft.id, client=ada, body=cm.CommentAddRequest(body="First!"))
    assert isinstance(comment, cm.CommentOutput), comment
    assert (comment.post.title, comment.author.display_name, comment.body) == ("Hello", "Ada Tour", "First!")
    detail = _api(command, "post_detail").sync(draft.id, client=anonymous)
    assert isinstance(detail, cm.PostOutput)
    assert (detail.comment_count, detail.status, detail.author.display_name) == (1, cm.StatusEnum.PUBLISHED,
                                                                                 "Ada Tour")  # fmt: skip

    # the query API, once the projector has made it searchable: read your write, then the comment counted
    reader = query.Client(base_url=f"http://127.0.0.1:{system.query_port}", raise_on_unexpected_status=True)
    search = _api(query, "post_search")
    found = search.sync_detailed(client=reader, q="pelican", sort=qm.PostSearchSort.RELEVANCE,
                                 x_consistency_token=published.headers["X-Consistency-Token"])  # fmt: skip
    assert found.headers["X-Consistency-Status"] == "consistent"
    assert isinstance(found.parsed, qm.PostPage), found.content

    def counted() -> Any:
        page = search.sync(client=reader, q="pelican", author=str(registered.id))
        hits = [post for post in page.results if post.id == str(draft.id) and post.comment_count == 1]
        return hits[0] if hits else None

    post = eventually(counted, timeout=SEARCHABLE_TIMEOUT, pause=0.2)
    assert isinstance(post, qm.PostDocument)
    assert (post.title, post.tags, post.author.display_name) == ("Hello", ["birds"], "Ada Tour")
    assert "<mark>pelicans</mark>" in post.highlights.additional_properties["content"][0]

    def listed() -> Any:
        page = _api(query, "post_comment_list").sync(draft.id, client=reader)
        return page if page.results else None

    comments = eventually(listed, timeout=SEARCHABLE_TIMEOUT, pause=0.2)
    assert isinstance(comments, qm.CommentPage)
    assert [(c.body, c.author.username, c.post_title) for c in comments.results] == [("First!", "tour_ada", "Hello")]
    facets = _api(query, "post_tag_facets").sync(client=reader, author=str(registered.id))
    assert isinstance(facets, qm.TagFacets)
    assert [(f.tag, f.count) for f in facets.results] == [("birds", 1)]

    def directory_entry() -> Any:
        page = _api(query, "author_list").sync(client=reader, q="tour_ada")
        mine = [a for a in page.results if a.id == str(registered.id) and a.comment_count == 1]
        return mine[0] if mine else None

    author = eventually(directory_entry, timeout=SEARCHABLE_TIMEOUT, pause=0.2)
    assert isinstance(author, qm.AuthorDocument)
    assert (author.display_name, author.published_post_count) == ("Ada Tour", 1)
