"""OpenSearch is a real node with the modules the projector needs: analysis-common, painless, reindex, aliases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from opensearchpy import OpenSearch, helpers

ENGLISH = {
    "settings": {
        "number_of_shards": 1,
        "number_of_replicas": 0,
        "analysis": {
            "filter": {"english_stemmer": {"type": "stemmer", "language": "english"}},
            "analyzer": {"english_text": {"tokenizer": "standard", "filter": ["lowercase", "english_stemmer"]}},
        },
    },
    "mappings": {
        "properties": {
            "title": {"type": "text", "analyzer": "english_text"},
            "views": {"type": "integer"},
            "author": {"type": "keyword"},
        }
    },
}


@pytest.fixture(scope="module")
def client(opensearch_url: str) -> Iterator[OpenSearch]:
    client = OpenSearch(opensearch_url, timeout=30)
    yield client
    client.close()


@pytest.fixture
def prefix(client: OpenSearch) -> Iterator[str]:
    name = f"smoke-{uuid.uuid4().hex[:10]}"
    yield name
    client.indices.delete(index=f"{name}-*", ignore_unavailable=True)


def _load(client: OpenSearch, index: str) -> None:
    client.indices.create(index=index, body=ENGLISH)
    docs = [
        {"_index": index, "_id": "1", "title": "Running with the wolves", "views": 1, "author": "ada"},
        {"_index": index, "_id": "2", "title": "The runner's guide", "views": 5, "author": "bob"},
        {"_index": index, "_id": "3", "title": "Cooking for one", "views": 2, "author": "ada"},
    ]
    ok, errors = helpers.bulk(client, docs, refresh="wait_for")
    assert (ok, errors) == (3, [])


def test_english_stemmer_from_analysis_common(client: OpenSearch, prefix: str) -> None:
    index = f"{prefix}-v1"
    _load(client, index)
    tokens = client.indices.analyze(index=index, body={"analyzer": "english_text", "text": "Running runs"})
    assert [t["token"] for t in tokens["tokens"]] == ["run", "run"]
    hits = client.search(index=index, body={"query": {"match": {"title": "runs"}}})["hits"]["hits"]
    assert {hit["_id"] for hit in hits} == {"1"}


def test_painless_update_and_update_by_query(client: OpenSearch, prefix: str) -> None:
    index = f"{prefix}-v1"
    _load(client, index)
    client.update(
        index=index,
        id="1",
        body={"script": {"lang": "painless", "source": "ctx._source.views += params.n", "params": {"n": 10}}},
        refresh=True,
    )
    assert client.get(index=index, id="1")["_source"]["views"] == 11
    result = client.update_by_query(
        index=index,
        body={
            "query": {"term": {"author": "ada"}},
            "script": {"lang": "painless", "source": "ctx._source.author = params.name", "params": {"name": "ada2"}},
        },
        refresh=True,
        conflicts="proceed",
    )
    assert result["updated"] == 2
    found = client.search(index=index, body={"query": {"term": {"author": "ada2"}}})["hits"]["total"]["value"]
    assert found == 2


def test_external_versioning_rejects_an_older_write(client: OpenSearch, prefix: str) -> None:
    index = f"{prefix}-v1"
    client.indices.create(index=index, body=ENGLISH)
    client.index(index=index, id="p", body={"title": "v5"}, version=5, version_type="external")
    from opensearchpy.exceptions import ConflictError

    with pytest.raises(ConflictError):
        client.index(index=index, id="p", body={"title": "v4"}, version=4, version_type="external")
    assert client.get(index=index, id="p")["_source"]["title"] == "v5"


def test_reindex_then_atomic_alias_swap(client: OpenSearch, prefix: str) -> None:
    old, new, alias = f"{prefix}-v1", f"{prefix}-v2", f"{prefix}-read"
    _load(client, old)
    client.indices.put_alias(index=old, name=alias)
    client.indices.create(index=new, body=ENGLISH)
    result = client.reindex(body={"source": {"index": old}, "dest": {"index": new}}, refresh=True)
    assert result["created"] == 3
    client.indices.update_aliases(
        body={"actions": [{"remove": {"index": old, "alias": alias}}, {"add": {"index": new, "alias": alias}}]}
    )
    assert list(client.indices.get_alias(name=alias)) == [new]
    assert client.count(index=alias)["count"] == 3
