"""Where a password reset mail's link points: the configured page, or this server's own."""

from __future__ import annotations

import pytest

from learnhub.config import Settings


@pytest.mark.parametrize(
    ("host", "port", "link"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000/password-reset/confirm"),
        ("127.0.0.1", 9123, "http://127.0.0.1:9123/password-reset/confirm"),
        ("0.0.0.0", 8080, "http://127.0.0.1:8080/password-reset/confirm"),
        ("::", 8080, "http://[::1]:8080/password-reset/confirm"),
        ("::1", 8001, "http://[::1]:8001/password-reset/confirm"),
        ("learn.example.test", 80, "http://learn.example.test:80/password-reset/confirm"),
    ],
)
def test_the_link_follows_the_address_the_server_answers_on(host: str, port: int, link: str):
    assert Settings(host=host, port=port).password_reset_link() == link


def test_a_configured_page_wins():
    page = "https://learn.example.test/password-reset/confirm"
    settings = Settings(port=9123, password_reset_url=page)
    assert settings.password_reset_link() == page
