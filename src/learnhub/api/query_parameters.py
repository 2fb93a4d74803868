"""The API's rules for query parameters, beyond each parameter's own validation (SPEC 7):
an unknown parameter on a list endpoint is a 422 naming the allowed ones
(`KnownQueryOnly`), and on every API route a parameter given more than once where the route
takes one value of it (`?sort=newest&sort=rating`) is a 422 naming it
(`one_value_per_query_parameter`): answered for one of the values (Starlette keeps the
last), the client's mistake went unnoticed and the answer was for a query it may not have
meant. A parameter the route declares as a list takes repeats."""

from __future__ import annotations

import types
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from learnhub.api.deps import get_optional_principal, get_principal
from learnhub.domain.errors import InvalidValue


def reject_unknown_query(request: Request, allowed: Sequence[str]) -> None:
    """SPEC 7: an unknown query parameter on a list endpoint is a 422 naming the allowed
    ones (a misspelt filter must not silently widen the answer)."""
    unknown = sorted(set(request.query_params) - set(allowed))
    if unknown:
        names = ", ".join(sorted(allowed))
        # Named, but not echoed back whole: a client's 60 kB name is not worth 60 kB again.
        shown = [name if len(name) <= 64 else name[:61] + "..." for name in unknown[:5]]
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise InvalidValue(
            f"unknown query parameter(s) {', '.join(shown)}{more}; allowed: {names}",
            allowed=names,
        )


async def known_query_only(request: Request) -> None:
    """`reject_unknown_query` with the route's own declared query parameters as the allowed
    ones: every list endpoint declares `dependencies=[KnownQueryOnly]` (a test enumerates
    the list endpoints and checks). Route dependencies run before the endpoint's own, so on
    a route for logged-in callers a request without credentials is left to its 401: a caller
    who may not ask learns nothing about the parameters."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed = _query_of(route).allowed
    if set(request.query_params) <= allowed:
        return
    if "authorization" not in request.headers and _needs_caller(route.dependant):
        return
    reject_unknown_query(request, sorted(allowed))


def _needs_caller(dependant: Dependant) -> bool:
    return any(
        d.call is get_principal or _needs_caller(d)
        for d in dependant.dependencies
        if d.call is not get_optional_principal
    )


KnownQueryOnly = Depends(known_query_only)


async def one_value_per_query_parameter(request: Request) -> None:
    """A dependency of every API route (api/app.py)."""
    if not request.scope["query_string"]:
        return
    given = Counter(name for name, _ in request.query_params.multi_items())
    if given.total() == len(given):
        return
    route = request.scope.get("route")
    single = _query_of(route).single_valued if isinstance(route, APIRoute) else frozenset()
    # Counted once each: a query of thousands of repeats costs one pass, not one per name.
    repeated = sorted(name for name, times in given.items() if times > 1 and name in single)
    if repeated:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": "given more than once; this parameter takes one value",
                    "type": "repeated_parameter",
                }
                for name in repeated
            ]
        )


@dataclass(frozen=True, slots=True)
class _DeclaredQuery:
    allowed: frozenset[str]  # every query parameter the route declares
    single_valued: frozenset[str]  # those it takes one value of


_DECLARED = "_learnhub_declared_query"


def _query_of(route: APIRoute) -> _DeclaredQuery:
    """The route's declared query parameters, its dependencies' included. Read once per
    route (the catalog is the hottest read): routes are unhashable, so they are kept on the
    route itself."""
    declared: _DeclaredQuery | None = getattr(route, _DECLARED, None)
    if declared is None:
        fields = list(_query_fields(route.dependant))
        declared = _DeclaredQuery(
            allowed=frozenset(name for name, _ in fields),
            single_valued=frozenset(name for name, many in fields if not many),
        )
        setattr(route, _DECLARED, declared)
    return declared


def _query_fields(dependant: Dependant) -> Iterator[tuple[str, bool]]:
    """(name, takes many values) of each query parameter of `dependant` and its own."""
    for field in dependant.query_params:
        yield field.alias, _takes_many(field.field_info.annotation)
    for dependency in dependant.dependencies:
        yield from _query_fields(dependency)


def _takes_many(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return any(_takes_many(arg) for arg in get_args(annotation))
    return origin in _MANY or annotation in _MANY


_MANY = (list, tuple, set, frozenset)
