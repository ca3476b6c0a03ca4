"""The read benchmark's data set: rows written fast with the ORM's bulk_create, read models built from the same rows.

`populate` needs Django set up on the command service's models (any settings module that installs them). The
text is drawn from a Zipf-weighted vocabulary (stop words, topical words, a long tail of made-up words), so a
common word matches a large share of the posts and a rare one a handful; tags and comment counts are skewed too.
`load_read_models` bulk-indexes exactly the documents `projector.operations.source.CommandSource` says the read
models must hold (what `projector verify` compares against) into fresh indices behind the aliases of a private prefix.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch, helpers

from projector.operations.indices import create_indices
from projector.operations.source import CommandSource
from read_models.indices import alias_of
from read_models.models import READ_MODELS

STOP_WORDS = "the of and to a in is that for it as with was on be by this are or at from".split()  # noqa: SIM905
TOPICAL_WORDS = """
data system service query index search event stream cache latency model design server client schema request
python django kafka postgres database cluster shard replica partition consumer producer message topic offset
write read projection document mapping analyzer token filter aggregate command outbox relay version migration
deploy release test benchmark profile memory thread process socket network protocol header cursor page sort
graph tree queue lock transaction commit rollback snapshot backup restore monitor metric alert dashboard log
trace span error retry timeout backoff circuit breaker gateway proxy router balancer container image volume
secret config feature flag rollout canary storage bucket object file block disk compression encoding json
garden travel coffee music recipe bread mountain river winter summer library museum bicycle camera painting
""".split()  # noqa: SIM905
SYLLABLES = "ka lo mi ren tas vor qui el an dor bel sun fra gil mop tre zan ux pli cor ven ast ith nol rup".split()  # noqa: SIM905
TAGS = """
python django kafka postgres opensearch redis docker kubernetes linux networking security testing performance
architecture databases devops frontend backend javascript typescript rust golang java cloud aws design career
tutorial opinion news release howto debugging monitoring observability caching search streaming data ml ai
travel photography cooking music books gardening cycling hiking writing productivity
""".split()  # noqa: SIM905
YEAR = timedelta(days=365)


@dataclass(frozen=True)
class Vocabulary:
    """Words with Zipf weights (rank 1 most frequent) and the cumulative weights `random.choices` wants."""

    words: list[str]
    cumulative: list[float]

    @classmethod
    def build(cls, rng: random.Random, tail: int = 4000, exponent: float = 1.0) -> Vocabulary:
        """Stop words first (most frequent), then topical words, then `tail` made-up words."""
        made_up: set[str] = set()
        while len(made_up) < tail:
            made_up.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
        tail_words = sorted(made_up)
        rng.shuffle(tail_words)
        words = [*STOP_WORDS, *TOPICAL_WORDS, *tail_words]
        cumulative = list(itertools.accumulate(1 / rank**exponent for rank in range(1, len(words) + 1)))
        return cls(words, cumulative)

    def draw(self, rng: random.Random, k: int) -> list[str]:
        """`k` words drawn with their weights."""
        return rng.choices(self.words, cum_weights=self.cumulative, k=k)


def common_word() -> str:
    """The most frequent non-stop word (just after the stop words in rank): a search that matches a large share."""
    return TOPICAL_WORDS[0]


def rare_word(seed: int = 7) -> str:
    """The least frequent word of `populate`'s vocabulary for `seed`: a search that matches a handful of posts."""
    return Vocabulary.build(random.Random(seed)).words[-1]


def popular_tag() -> str:
    """The most frequent tag."""
    return TAGS[0]


@dataclass
class DataSet:
    """What `populate` wrote."""

    users: int = 0
    published: int = 0
    drafts: int = 0
    deleted: int = 0
    tag_links: int = 0
    comments: int = 0
    deleted_comments: int = 0
    tags_used: dict[str, int] = field(default_factory=dict)

    def text(self) -> str:
        """The counts, on one line."""
        return (
            f"users {self.users}; posts: published {self.published}, drafts {self.drafts}, deleted {self.deleted}; "
            f"post-tag links {self.tag_links} over {len(self.tags_used)} tags; comments {self.comments} "
            f"({self.deleted_comments} deleted)"
        )


def _sentences(rng: random.Random, words: list[str]) -> str:
    out, start = [], 0
    while start < len(words):
        end = start + rng.randint(6, 16)
        sentence = " ".join(words[start:end])
        out.append(sentence[:1].upper() + sentence[1:] + ".")
        start = end
    return " ".join(out)


def _comment_count(rng: random.Random) -> int:
    """Skewed (log-normal): about half the posts get none, a few get dozens or more (at most 150); the mean is ~2."""
    return min(150, int(rng.lognormvariate(0.1, 1.25)))


def populate(*, posts: int, users: int, seed: int = 7, batch: int = 5000) -> DataSet:
    """Write users, `posts` published posts (plus 2% drafts and 1% deleted), their tags and comments.

    Args:
        posts: published posts to write.
        users: authors (and commenters).
        seed: the random seed (the data set is the same for the same arguments).
        batch: rows per INSERT.
    """
    from django.contrib.auth.hashers import make_password

    from command_service.apps.posts.models import Post, Tag
    from command_service.apps.users.models import User

    rng = random.Random(seed)
    vocab = Vocabulary.build(rng)
    now = datetime.now(UTC).replace(microsecond=0)
    data = DataSet()
    password = make_password("bench-password")
    people = [
        User(username=f"user{n}", display_name=f"{rng.choice(TOPICAL_WORDS).title()} Writer {n}", password=password,
             bio=" ".join(vocab.draw(rng, 12)), date_joined=now - YEAR)
        for n in range(1, users + 1)
    ]  # fmt: skip
    User.objects.bulk_create(people, batch_size=batch)
    data.users = len(people)
    tags = Tag.objects.bulk_create([Tag(name=name) for name in TAGS])
    kinds = [Post.Status.PUBLISHED] * posts + [Post.Status.DRAFT] * (posts // 50)
    kinds += [Post.Status.DELETED] * (posts // 100)
    rng.shuffle(kinds)
    for start in range(0, len(kinds), batch):
        rows = [_post(rng, vocab, status, rng.choice(people), now) for status in kinds[start : start + batch]]
        Post.objects.bulk_create(rows)
        _tag(rng, rows, tags, data)
        _comment(rng, vocab, rows, people, now, data)
        statuses = Counter(post.status for post in rows)
        data.published += statuses[Post.Status.PUBLISHED]
        data.drafts += statuses[Post.Status.DRAFT]
        data.deleted += statuses[Post.Status.DELETED]
    return data


def _post(rng: random.Random, vocab: Vocabulary, status: str, author: Any, now: datetime) -> Any:
    from command_service.apps.posts.models import Post

    published = now - YEAR * rng.random()
    created = published - timedelta(seconds=rng.randint(60, 3 * 86400))
    title = " ".join(vocab.draw(rng, rng.randint(4, 9)))
    draft = status == Post.Status.DRAFT
    return Post(
        author=author, title=title[:1].upper() + title[1:],
        content=_sentences(rng, vocab.draw(rng, rng.randint(60, 400))),
        status=status, version={Post.Status.PUBLISHED: 2, Post.Status.DRAFT: 1, Post.Status.DELETED: 3}[status],
        created_at=created, updated_at=created if draft else published, published_at=None if draft else published,
    )  # fmt: skip


def _tag(rng: random.Random, rows: list[Any], tags: list[Any], data: DataSet) -> None:
    """2 or 3 distinct tags per post, the popular ones (first in TAGS) far more often."""
    from command_service.apps.posts.models import Post

    weights = list(itertools.accumulate(1 / rank**0.8 for rank in range(1, len(tags) + 1)))
    links = []
    for post in rows:
        picked: set[int] = set()
        wanted = rng.randint(2, 3)
        while len(picked) < wanted:
            picked.add(rng.choices(range(len(tags)), cum_weights=weights)[0])
        for i in picked:
            links.append(Post.tags.through(post_id=post.pk, tag_id=tags[i].pk))
            data.tags_used[tags[i].name] = data.tags_used.get(tags[i].name, 0) + 1
    Post.tags.through.objects.bulk_create(links)
    data.tag_links += len(links)


def _comment(rng: random.Random, vocab: Vocabulary, rows: list[Any], people: list[Any], now: datetime,
             data: DataSet) -> None:  # fmt: skip
    """A skewed number of comments on each post that was published, mostly soon after it; 3% deleted."""
    from command_service.apps.comments.models import Comment

    comments = []
    for post in rows:
        if post.published_at is None:
            continue
        for _ in range(_comment_count(rng)):
            at = post.published_at + (now - post.published_at) * rng.random() ** 3
            deleted = rng.random() < 0.03
            comments.append(Comment(
                post=post, author=rng.choice(people), body=_sentences(rng, vocab.draw(rng, rng.randint(5, 40))),
                is_deleted=deleted, version=2 if deleted else 1, created_at=at, updated_at=at,
            ))  # fmt: skip
            data.deleted_comments += deleted
    Comment.objects.bulk_create(comments, batch_size=len(rows))
    data.comments += len(comments)


def _actions(source: CommandSource, model: str, index: str) -> Iterator[dict[str, Any]]:
    for chunk in source.documents(model):
        for document in chunk:
            yield {"_index": index, "_id": document["id"], "_source": document}


def load_read_models(client: OpenSearch, database_url: str, prefix: str) -> dict[str, int]:
    """Index the expected documents of every read model into fresh indices, then point `prefix`'s aliases at them.

    Args:
        client: the OpenSearch client.
        database_url: the command database to read the rows from.
        prefix: the PROJECTOR_INDEX_PREFIX whose aliases will serve the indices (none may exist yet).

    Returns:
        {model name: documents indexed}.
    """
    indices = create_indices(client, prefix=prefix)
    for index in indices.values():
        client.indices.put_settings(index=index, body={"index": {"refresh_interval": "-1"}})
    counts = {}
    with CommandSource(database_url, chunk=2000) as source:
        for model in READ_MODELS:
            ok, _ = helpers.bulk(
                client, _actions(source, model.name, indices[model.name]), chunk_size=1000, request_timeout=300
            )
            counts[model.name] = ok
    for index in indices.values():
        client.indices.put_settings(index=index, body={"index": {"refresh_interval": None}})
    client.indices.refresh(index=",".join(indices.values()))
    actions = [{"add": {"index": indices[model.name], "alias": alias_of(model, prefix)}} for model in READ_MODELS]
    client.indices.update_aliases(body={"actions": actions})
    return counts
