"""Accounts made the way the application makes them: through ``user_create``."""

# factory_boy's declarations are not annotated; calling them is what a factory does.
# mypy: disallow-untyped-calls=False

from __future__ import annotations

from typing import Any

from factory.declarations import Sequence, Trait
from factory.django import DjangoModelFactory
from factory.faker import Faker

from lapor.accounts.models import User
from lapor.accounts.services import user_create

PASSWORD = "kata-sandi-yang-kuat-2026"


class UserFactory(DjangoModelFactory[User]):
    """``UserFactory.create(with_nik=True)``; traits: with_nik, with_phone, superuser, inactive."""

    class Meta:
        model = User

    full_name = Faker("name", locale="id_ID")
    email = Sequence(lambda number: f"warga{number}@example.id")
    phone = None
    password = PASSWORD
    nik = None

    class Params:
        with_nik = Trait(nik=Sequence(lambda number: f"3201{number:012d}"))
        with_phone = Trait(phone=Sequence(lambda number: f"0812{number:08d}"))
        superuser = Trait(is_staff=True, is_superuser=True)
        inactive = Trait(is_active=False)

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        flags = {name: kwargs.pop(name) for name in ("is_staff", "is_superuser", "is_active") if name in kwargs}
        user = user_create(**kwargs)
        if flags:
            for name, value in flags.items():
                setattr(user, name, value)
            user.save(update_fields=list(flags))
        return user
