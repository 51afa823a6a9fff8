"""What the console's base template needs to know about the signed-in person (console pages only)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from lapor.accounts.choices import Role
from lapor.console.access import scope_of


def console_navigation(request: HttpRequest) -> dict[str, Any]:
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace != "console" or not request.user.is_authenticated:
        return {}
    scope = scope_of(request)
    # The institution pages are for coordinators (their subtree) and the national admin.
    manages = scope.national or any(role == Role.COORDINATOR for _id, _path, role in scope.memberships)
    return {"console_manages": manages}
