# The verbs of the project. A newcomer needs two: `make run` and `make test`.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

UV ?= $(shell command -v uv 2>/dev/null || echo python3 -m uv)
RUN := $(UV) run --frozen
PYTEST := $(RUN) python -m infra exec -- pytest

.PHONY: help bootstrap install services services-down services-status run lint format schemas test test-unit test-api \
	test-integration test-query test-e2e bench bench-command bench-projector bench-query bench-ryw \
	bench-stream bench-hot-author bench-searchable bench-rebuild bench-bounds bench-erasure demo

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

bootstrap: install ## install what a new machine lacks (uv, Debian packages, Python deps)

install: ## install what a new machine lacks, then .venv from uv.lock (a quarter second when nothing is missing)
	@bash infra/bootstrap.sh

services: install ## start PostgreSQL, Redis, Kafka and OpenSearch on loopback (a no-op when running)
	@$(RUN) python -m infra up

services-down: ## stop exactly the service processes `make services` started
	@$(RUN) python -m infra down

services-status: ## say which services run, where, and their memory
	@$(RUN) python -m infra status || true

run: bootstrap ## bring the whole system up (services, migrations, topics, indices, every process); Ctrl-C stops it
	@$(RUN) python -m infra run

demo: install ## seed demo users, posts, tags and comments through the command API of a running `make run`
	@$(RUN) python -m infra.demo

lint: install ## ruff lint and format check; bandit: no high-severity finding in the product code; pip-audit of uv.lock
	@$(RUN) ruff check .
	@$(RUN) ruff format --check .
	@$(RUN) bandit -q -r command_service query_service projector events read_models runtime infra bench --severity-level high
	@$(RUN) python -m infra.audit

format: install ## apply ruff's fixes and formatting
	@$(RUN) ruff check --fix .
	@$(RUN) ruff format .

schemas: install ## regenerate the committed contracts: event schemas, AsyncAPI, OpenAPI
	@$(RUN) python -m events.schemas
	@$(RUN) python -m events.asyncapi
	@$(RUN) python -m command_service spectacular --file docs/openapi/command-api.yaml --validate
	@$(RUN) python -m query_service spectacular --file docs/openapi/query-api.yaml --validate

test: lint test-unit test-api test-integration test-query test-e2e ## lint, unit and API tests, then integration tests on the real services

test-unit: install ## tests that need no service and no database
	@$(RUN) pytest tests/unit

test-api: services ## API and contract tests on an in-memory SQLite database (the rate-limit tests count in the local Redis)
	@env -u DATABASE_URL $(RUN) pytest tests/api tests/contract

test-integration: services ## tests against the real services (started when they are not up)
	@$(PYTEST) tests/integration

test-query: services ## the query service's tests (its own Django settings: no database) on OpenSearch and Redis
	@DJANGO_SETTINGS_MODULE=query_service.config.settings $(PYTEST) tests/integration/query_service

test-e2e: services ## the whole system through its public HTTP and WebSocket APIs (`infra run` on PostgreSQL)
	@$(PYTEST) tests/e2e

bench: services ## every bench in turn at smaller sizes (`python -m bench --list`), then the report docs/benchmarks.md; exits 1 if any failed (ONLY="stream ryw")
	@$(RUN) python -m infra exec -- python -m bench $(if $(ONLY),--only $(ONLY),)

bench-bounds: install ## how fast the command API refuses 60,000 tags and 1 MiB bodies of every shape, in process on SQLite (SAMPLES=7)
	@$(RUN) python -m bench.bounds --samples $(or $(SAMPLES),7)

bench-command: services ## P3: POST create: outbox (relay stopped / running), without outbox, sync indexing; commit -> Kafka append at half the max rate (SAMPLES=3 SECONDS=10 PACED_SECONDS=20)
	@$(RUN) python -m infra exec -- python -m bench.command_write --samples $(or $(SAMPLES),3) --seconds $(or $(SECONDS),10) \
		--paced-seconds $(or $(PACED_SECONDS),20)

bench-projector: services ## P4: live projector events/s on a realistic history vs a raw bulk of its final documents (POSTS=2000 SAMPLES=3)
	@$(RUN) python -m infra exec -- python -m bench.projector_rate --posts $(or $(POSTS),2000) --samples $(or $(SAMPLES),3)

bench-hot-author: services ## P9: events/s over the last vs the first 10 % of one author's comments (COMMENTS=20000 SAMPLES=3 BUDGET=120)
	@$(RUN) python -m infra exec -- python -m bench.hot_author --comments $(or $(COMMENTS),20000) \
		--samples $(or $(SAMPLES),3) --budget $(or $(BUDGET),120)

bench-rebuild: services ## P7: a full rebuild's build phase on a realistic history vs a raw bulk of its final documents (POSTS=2000 SAMPLES=3 BUDGET=900; the issue's target POSTS=100000)
	@$(RUN) python -m infra exec -- python -m bench.rebuild_rate --posts $(or $(POSTS),2000) --samples $(or $(SAMPLES),3) \
		--budget $(or $(BUDGET),900)

bench-query: services ## list/search p50/p99 and throughput of the query service vs the raw _search it sends and a fair Django ORM list (POSTS=100000 SAMPLES=3)
	@$(RUN) python -m infra exec -- python -m bench.query_read --posts $(or $(POSTS),100000) --samples $(or $(SAMPLES),3)

bench-erasure: services ## issue 18: DELETE -> last trace gone p50/p99 over 20 erasures, and sealed vs plain projection (ERASURES=20 SAMPLES=3 POSTS=500)
	@$(RUN) python -m infra exec -- python -m bench.erasure --erasures $(or $(ERASURES),20) \
		--samples $(or $(SAMPLES),3) --posts $(or $(POSTS),500)

bench-ryw: services ## read-your-writes wait p50/p99 and stale count under a steady write load (RYW_SECONDS=20 SAMPLES=3 READERS=16)
	@$(RUN) python -m infra exec -- python -m bench.read_your_writes --seconds $(or $(RYW_SECONDS),20) \
		--samples $(or $(SAMPLES),3) --readers $(or $(READERS),16)

bench-searchable: services ## commit -> searchable p50/p99 at a steady write rate via the command API (SECONDS=30 SAMPLES=3 RATE=50)
	@$(RUN) python -m infra exec -- python -m bench.commit_to_searchable --seconds $(or $(SECONDS),30) \
		--samples $(or $(SAMPLES),3) --rate $(or $(RATE),50)

bench-stream: services ## P8: WebSocket delivery p50/p99, notice written -> frame received (SUBSCRIBERS=1000 RATE=5 SAMPLES=3)
	@$(RUN) python -m infra exec -- python -m bench.stream_delivery --subscribers $(or $(SUBSCRIBERS),1000) \
		--rate $(or $(RATE),5) --samples $(or $(SAMPLES),3)
