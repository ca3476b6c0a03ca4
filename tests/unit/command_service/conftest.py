"""A fresh fake unit of work per test, and the people in it."""

from __future__ import annotations

import pytest

from command_service.domain.actors import Actor
from tests.unit.command_service.fakes import FakeUnitOfWork
from tests.unit.command_service.scenario import CONTEXT, register


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork(CONTEXT)


@pytest.fixture
def alice(uow: FakeUnitOfWork) -> Actor:
    """The author of the posts under test."""
    return register(uow, "alice")


@pytest.fixture
def bob(uow: FakeUnitOfWork) -> Actor:
    """Another user: a reader and commenter."""
    return register(uow, "bob")


@pytest.fixture
def staff(uow: FakeUnitOfWork) -> Actor:
    """A moderator who wrote nothing."""
    return register(uow, "mod", is_staff=True)
