"""Inviting a person to a staff role: the inviter sees only the address they typed, and the membership gives
nothing until the invited person accepts it (on the portal, where signing in with a password is enough:
answering an invitation acts for nobody but oneself)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from lapor.accounts.choices import Role
from lapor.accounts.models import Membership
from tests.console.conftest import verified_login

INVITED = "rina@example.id"


def _invite(client: Client, world, contact: str = INVITED) -> None:
    response = client.post(
        reverse("console:manage_staff_invite", args=[world.city.pk]),
        {
            "full_name": "Nama Yang Diketik",
            "contact": contact,
            "role": Role.LIAISON_OFFICER,
            "unit": world.transport.pk,
        },
    )
    assert response.status_code == 302


@pytest.fixture
def invited(world, console_client) -> Client:
    """The coordinator's console client, after inviting the reporter's address to the transport office."""
    coordinator = console_client(world.coordinator)
    _invite(coordinator, world)
    return coordinator


def _staff_page(client: Client, world) -> str:
    return client.get(reverse("console:manage_staff", args=[world.city.pk])).content.decode()


def test_inviting_an_existing_account_shows_only_the_address_typed_and_gives_nothing_yet(world, invited):
    page = _staff_page(invited, world)
    assert INVITED in page
    assert "invitation not yet accepted" in page
    assert world.reporter.full_name not in page
    membership = Membership.objects.get(user=world.reporter, institution=world.transport)
    assert (membership.is_active, membership.is_pending) == (False, True)
    # Not staff yet: even with a second factor, the console does not exist for them.
    assert verified_login(Client(), world.reporter).get(reverse("console:inbox")).status_code == 404


def test_the_invited_person_accepts_on_the_portal_and_becomes_staff(world, invited):
    person = Client()
    person.force_login(world.reporter)
    page = person.get(reverse("portal:invitations")).content.decode()
    assert world.coordinator.full_name in page
    assert world.transport.name in page
    membership = Membership.objects.get(user=world.reporter, institution=world.transport)
    response = person.post(reverse("portal:invitations"), {"membership": membership.pk, "decision": "accept"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert (membership.is_active, membership.is_pending) == (True, False)
    assert world.reporter.full_name in _staff_page(invited, world)
    assert verified_login(Client(), world.reporter).get(reverse("console:inbox")).status_code == 200


def test_the_invited_person_may_decline(world, invited):
    person = Client()
    person.force_login(world.reporter)
    membership = Membership.objects.get(user=world.reporter, institution=world.transport)
    person.post(reverse("portal:invitations"), {"membership": membership.pk, "decision": "decline"})
    membership.refresh_from_db()
    assert (membership.is_active, membership.is_pending, membership.revoked_by) == (False, False, world.reporter)
    assert f'data-membership="{membership.pk}"' not in _staff_page(invited, world)
    assert "You have no open invitations." in person.get(reverse("portal:invitations")).content.decode()


def test_nobody_accepts_someone_elses_invitation(world, invited):
    membership = Membership.objects.get(user=world.reporter, institution=world.transport)
    other = Client()
    other.force_login(world.member_of_public)
    response = other.post(reverse("portal:invitations"), {"membership": membership.pk, "decision": "accept"})
    assert response.status_code == 302
    assert "This invitation is no longer open." in other.get(response["Location"]).content.decode()
    membership.refresh_from_db()
    assert (membership.is_active, membership.is_pending) == (False, True)
    assert other.post(reverse("portal:invitations"), {"membership": "x", "decision": "accept"}).status_code == 400
    assert Client().get(reverse("portal:invitations")).status_code == 302


def test_withdrawing_a_pending_invitation_names_only_the_address(world, invited):
    membership = Membership.objects.get(user=world.reporter, institution=world.transport)
    response = invited.post(reverse("console:manage_membership_revoke", args=[membership.pk]), follow=True)
    page = response.content.decode()
    assert f"{INVITED} is no longer" in page
    assert world.reporter.full_name not in page
    membership.refresh_from_db()
    assert (membership.is_active, membership.is_pending) == (False, False)
