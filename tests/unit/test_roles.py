"""The staff roles made by the data migration and what each may do."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def member(group: str):  # type: ignore[no-untyped-def]
    user = UserFactory(username=f"{group.lower()}-user", password=None)
    user.groups.add(Group.objects.get(name=group))
    return type(user).objects.get(pk=user.pk)  # fresh: permission caches are per instance


def test_the_three_roles_exist() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= {"Agent", "Manager", "Admin"}


def test_agent_works_tickets_and_reads_customers_only() -> None:
    agent = member("Agent")
    assert agent.has_perm("feedback.change_ticket")
    assert agent.has_perm("feedback.add_ticket")  # a ticket from a phone call
    assert agent.has_perm("feedback.add_ticketmessage")
    assert agent.has_perm("customers.view_customer")
    assert not agent.has_perm("customers.change_customer")
    assert not agent.has_perm("feedback.change_survey")
    assert not agent.has_perm("feedback.view_dashboard")
    assert not agent.has_perm("customers.export_customer")
    assert not agent.has_perm("customers.erase_customer")
    assert not agent.has_perm("cxcrm.view_webhookendpoint")


def test_manager_also_runs_surveys_touchpoints_root_causes_and_the_dashboard() -> None:
    manager = member("Manager")
    for perm in (
        "feedback.change_ticket",
        "feedback.change_survey",
        "feedback.add_rootcause",
        "touchpoints.change_touchpoint",
        "feedback.view_dashboard",
        "cxcrm.add_webhookendpoint",
        "cxcrm.change_webhookdelivery",
    ):
        assert manager.has_perm(perm), perm
    assert not manager.has_perm("customers.delete_customer")


def test_admin_has_every_permission() -> None:
    admin = member("Admin")
    assert admin.has_perm("customers.delete_customer")
    assert admin.has_perm("auth.change_user")
    assert admin.has_perm("customers.erase_customer")


def test_migrate_sets_the_groups_to_the_table_again() -> None:
    """Rights edited by hand on the three groups come back to cxcrm.roles at the next migrate
    (post_migrate), and a permission added to the table reaches existing deployments."""
    from django.core.management import call_command

    agent = Group.objects.get(name="Agent")
    agent.permissions.clear()
    call_command("migrate", verbosity=0)
    assert member("Agent").has_perm("feedback.change_ticket")
