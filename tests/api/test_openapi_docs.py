"""The OpenAPI document is one a client can be built on, and /docs and /redoc need nothing
from outside the app (issue 15, item 7).

Every operation has a written summary (not FastAPI's one made from the function name), an
example for its request body and for its success answer, and every example validates against
the schema it illustrates. The bearer scheme is declared and matches behaviour: an operation
that declares a token required refuses an anonymous caller (401), one that refuses an
anonymous caller declares the token, an operation that takes an optional token refuses a bad
one, and one that declares none ignores it. The browser side (the pages render, "Authorize"
works, no request leaves loopback) is tests/browser/test_api_docs.py."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema_rs
import pytest

METHODS = ("get", "put", "post", "patch", "delete")
BEARER = "bearerAuth"


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def illustrated(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    """Whether a schema carries an example: itself, or every alternative it may be (`null`
    needs none), or the items of an array."""
    schema = resolve(document, schema)
    if schema.get("examples") or "example" in schema:
        return True
    alternatives = [
        s for s in schema.get("anyOf", schema.get("oneOf", [])) if s != {"type": "null"}
    ]
    if alternatives:
        return all(illustrated(document, s) for s in alternatives)
    if schema.get("type") == "array" and "items" in schema:
        return illustrated(document, schema["items"])
    return False


def media_illustrated(document: dict[str, Any], media: dict[str, Any]) -> bool:
    return (
        "example" in media
        or bool(media.get("examples"))
        or illustrated(document, media.get("schema", {}))
    )


def fastapi_default_summary(method: str, path: str, operation_id: str) -> str:
    """The summary FastAPI makes up from the function's name when none is written."""
    suffix = re.sub(r"\W", "_", path) + "_" + method
    return operation_id.removesuffix(suffix).replace("_", " ").title()


def test_a_made_up_summary_is_recognised() -> None:
    # The check below must be able to fail: FastAPI's own summary for `def get_review`.
    made_up = fastapi_default_summary(
        "get", "/api/v1/reviews/{review_id}", "get_review_api_v1_reviews__review_id__get"
    )
    assert made_up == "Get Review"


async def test_every_operation_has_a_written_summary(document: dict[str, Any]) -> None:
    missing = [
        f"{method.upper()} {path}"
        for method, path, op in operations(document)
        if not op.get("summary", "").strip()
        or op["summary"] == fastapi_default_summary(method, path, op["operationId"])
    ]
    assert not missing, f"operations without a written summary: {missing}"


async def test_every_request_body_has_an_example(document: dict[str, Any]) -> None:
    missing = [
        f"{method.upper()} {path} ({media_type})"
        for method, path, op in operations(document)
        for media_type, media in op.get("requestBody", {}).get("content", {}).items()
        if not media_illustrated(document, media)
    ]
    assert not missing, f"request bodies without an example: {missing}"


async def test_every_success_answer_has_an_example(document: dict[str, Any]) -> None:
    missing = []
    for method, path, op in operations(document):
        successes = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        assert successes, f"{method.upper()} {path} documents no success answer"
        for code, response in successes.items():
            # A 204 has no body to illustrate; every other answer has one.
            if code != "204" and not response.get("content"):
                missing.append(f"{method.upper()} {path} {code} (no content documented)")
            for media_type, media in response.get("content", {}).items():
                if not media_illustrated(document, media):
                    missing.append(f"{method.upper()} {path} {code} ({media_type})")
    assert not missing, f"success answers without an example: {missing}"


def validator(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    # The document's components ride along so that `#/components/schemas/...` resolves.
    root = {"allOf": [schema], "components": document["components"]}
    return jsonschema_rs.Draft202012Validator(root)


def every_example(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example) for each schema-level and media-level example."""
    for name, schema in document["components"]["schemas"].items():
        for value in schema.get("examples", []):
            yield f"components/{name}", {"$ref": f"#/components/schemas/{name}"}, value
    for method, path, op in operations(document):
        places = [("request", op.get("requestBody", {}))]
        places += [(code, response) for code, response in op["responses"].items()]
        for place, holder in places:
            for media_type, media in holder.get("content", {}).items():
                if "schema" not in media or not media_type.endswith("json"):
                    continue
                values = [media["example"]] if "example" in media else []
                values += [e.get("value") for e in media.get("examples", {}).values()]
                for value in values:
                    yield f"{method.upper()} {path} {place}", media["schema"], value


async def test_examples_match_their_schemas(document: dict[str, Any]) -> None:
    checked, wrong = 0, []
    for where, schema, value in every_example(document):
        checked += 1
        errors = [e.message for e in validator(document, schema).iter_errors(value)]
        if errors:
            wrong.append(f"{where}: {errors[:3]}")
    assert checked >= 40
    assert not wrong, "\n".join(wrong)


async def test_a_wrong_example_is_caught(document: dict[str, Any]) -> None:
    # The validation above must be able to fail: a review rated 6 is not a ReviewIn.
    schema = {"$ref": "#/components/schemas/ReviewIn"}
    assert validator(document, schema).is_valid({"rating": 5, "body": "Good"})
    assert not validator(document, schema).is_valid({"rating": 6, "body": "Good"})


def security(op: dict[str, Any]) -> str:
    """ "required", "optional" (anonymous or bearer) or "none", as declared."""
    requirements = op.get("security") or []
    if {BEARER: []} not in requirements:
        assert not requirements, requirements
        return "none"
    return "optional" if {} in requirements else "required"


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)


async def test_the_bearer_scheme_is_declared(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"][BEARER]
    assert scheme == scheme | {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert set(document["components"]["securitySchemes"]) == {BEARER}
    assert security(document["paths"]["/api/v1/users/me"]["get"]) == "required"
    assert security(document["paths"]["/api/v1/courses"]["get"]) == "optional"
    assert security(document["paths"]["/api/v1/auth/login"]["post"]) == "none"


async def test_declared_security_matches_behaviour(
    client: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    bad_token = {"Authorization": "Bearer not-a-token"}
    wrong = []
    for method, path, op in operations(document):
        label, declared = f"{method.upper()} {path}", security(op)
        url = concrete(path)
        anonymous = await client.request(method.upper(), url)
        assert anonymous.status_code < 500, f"{label}: {anonymous.text}"
        if declared == "required" and anonymous.status_code != 401:
            wrong.append(f"{label}: declares a token required, anonymous got {anonymous}")
        if anonymous.status_code == 401 and declared == "none":
            wrong.append(f"{label}: refuses anonymous callers but declares no token")
        with_bad = await client.request(method.upper(), url, headers=bad_token)
        if declared == "optional" and with_bad.status_code != 401:
            wrong.append(f"{label}: takes an optional token but accepted a bad one")
        if declared == "none" and with_bad.status_code == 401:
            wrong.append(f"{label}: declares no token but reads one")
    assert not wrong, "\n".join(wrong)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_load_only_assets_the_app_serves(
    client: httpx.AsyncClient, page: str
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    html = response.text
    parser = _Links()
    parser.feed(html)
    assert parser.urls, html
    # Scripts and styles FastAPI names in its own page code (the spec URL, Swagger's CSS).
    urls = parser.urls + re.findall(r"""(?:url|spec-url)\s*[:=]\s*['"]([^'"]+)['"]""", html)
    for url in urls:
        assert not urlsplit(url).netloc, f"{page} loads {url} from elsewhere"
        asset = await client.get(url)
        assert asset.status_code == 200, f"{page}: {url} answered {asset.status_code}"
        assert asset.content, url
    assert "fonts.googleapis" not in html and "cdn." not in html
    if page == "/redoc":
        # The packaged ReDoc asks for its logo next to the page, not on a CDN.
        logo = await client.get("/redoc/logo-mini.svg")
        assert logo.status_code == 200 and logo.headers["content-type"] == "image/svg+xml"
