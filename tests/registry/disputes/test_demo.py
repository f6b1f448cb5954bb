"""The demo region shows the disputes pages something real: an open dispute with days left
in 前海's inbox, a resolved one, and an escalated one awaiting the operator."""

from __future__ import annotations

from lenders.actors import Actor
from lenders.models import Member, Region, User
from registry.models import Dispute
from registry.selectors.disputes import arbitration_queue, dispute_items_inbox
from registry.services.consensus import consensus_verify
from tests.registry.helpers import run_command


def test_load_demo_files_three_disputes_once(db):
    first = run_command("load_demo")["disputes"]

    assert [d["state"] for d in first] == ["OPEN", "RESOLVED", "ESCALATED"]
    region = Region.objects.get(code="DEMO")
    qh_analyst = Actor.for_user(User.objects.get(username="qh_analyst"))
    inbox = [item for item in dispute_items_inbox(qh_analyst) if item.state == "OPEN"]
    assert [item.days_left() for item in inbox] == [14]
    assert [d.pk for d in arbitration_queue(region)] == [first[2]["dispute"]]
    assert consensus_verify(region=region).different == 0

    assert run_command("load_demo")["disputes"] == first
    assert Dispute.objects.count() == 3
    assert Member.objects.filter(region=region).count() == 3
