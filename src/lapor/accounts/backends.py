from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from lapor.accounts.models import User
from lapor.accounts.selectors import user_find_by_login


class EmailOrPhoneBackend(ModelBackend):
    """Authenticates with an e-mail address or a phone number in any common Indonesian format."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        login = username if username is not None else kwargs.get(User.USERNAME_FIELD)
        if not login or password is None:
            return None
        user = user_find_by_login(login)
        if user is None:
            # Hash anyway so that the response time does not reveal whether the account exists.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
