"""Whose an Idempotency-Key is: a user's own, or an anonymous client address's, never everyone's."""

from __future__ import annotations

from command_service.services.idempotency import caller_scope


def test_a_user_scope_is_the_user_whatever_the_address() -> None:
    assert caller_scope(7, None) == "user:7"
    assert caller_scope(7, "203.0.113.7") == "user:7"


def test_anonymous_callers_are_scoped_by_a_digest_of_their_address() -> None:
    here, there = caller_scope(None, "203.0.113.7"), caller_scope(None, "198.51.100.9")

    assert here != there
    assert here == caller_scope(None, "203.0.113.7")
    assert here.startswith("anonymous:")
    assert "203.0.113.7" not in here


def test_an_anonymous_scope_fits_its_column_whatever_the_forwarded_for_header_held() -> None:
    assert len(caller_scope(None, "1.2.3.4," * 1000)) <= 64
    assert len(caller_scope(None, "2001:db8::1")) <= 64
