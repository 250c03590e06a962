"""Previewing the notices a case would send, and approving the ones held for approval."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlmodel import Session, select

from store.db import get_engine
from store.models import Deadline
from tests.api.helpers import get_ok
from tests.dates import a_monday_whose_ninetieth_day_is_a_sunday, at_ny_on, described
from tests.workflows.helpers import eventually, notices
from workers.seed import reference_term_sheet

START = "/api/contracts/ctr_reference_msa/cases"
CUSTOMER = ["legal@customer.example.com", "contracts@customer.example.com"]
PROVIDER = ["notices@provider.example.com", "legal@provider.example.com"]
OWNER = "contract.owner@customer.example.com"


def iso(at: dt.datetime) -> str:
    return at.replace(microsecond=0).isoformat()


#: A recent Monday's notice: its 90th day is a Sunday, carried to the Monday after.
MONDAY, EFFECTIVE = a_monday_whose_ninetieth_day_is_a_sunday()


async def termination_case(api: httpx.AsyncClient) -> str:
    received = at_ny_on(MONDAY, 10).isoformat()
    r = await api.post(
        START,
        json={
            "clause": "termination_for_convenience",
            "facts": {"notice_received_at": received, "given_by": "provider"},
        },
        headers={"Idempotency-Key": "preview"},
    )
    assert r.status_code == 201, r.text
    await eventually(lambda: notices(r.json()["id"]))
    return str(r.json()["id"])


async def test_a_preview_renders_a_future_notice_with_current_facts_and_stores_nothing(
    api: httpx.AsyncClient,
) -> None:
    case_id = await termination_case(api)
    preview = await get_ok(api, f"/api/cases/{case_id}/notices/termination_effective/preview")
    # 90 days after a Monday is a Sunday, carried to the Monday after (§ 25).
    assert preview["subject"].startswith(f"Termination effective {described(EFFECTIVE)}")
    # A report to our own people since v3: neither party's notice.
    assert preview["to"] == [OWNER] and preview["cc"] == []
    assert described(EFFECTIVE) in preview["body_text"]
    assert preview["body_html"].lstrip().startswith("<!doctype html>")
    assert preview["case_state"] == "notice_period_running"
    assert preview["requires_approval"] is False

    html = await api.get(
        f"/api/cases/{case_id}/notices/termination_effective/preview", params={"format": "html"}
    )
    assert html.headers["content-type"].startswith("text/html")
    assert html.text.startswith("<!doctype html>") and described(EFFECTIVE) in html.text
    # Only the acknowledgement exists: previews are neither stored nor sent.
    assert [n.notice for n in notices(case_id)] == ["acknowledgement"]
    assert (await api.get("/api/notices", params={"case_id": case_id})).json()["total"] == 1


async def test_a_preview_of_an_unknown_case_or_notice_is_a_404_naming_it(
    api: httpx.AsyncClient,
) -> None:
    r = await api.get("/api/cases/case_nope/notices/acknowledgement/preview")
    assert r.status_code == 404 and "case_nope" in r.json()["detail"]
    case_id = await termination_case(api)
    r = await api.get(f"/api/cases/{case_id}/notices/eviction/preview")
    assert r.status_code == 404
    assert "'eviction'" in r.json()["detail"] and "termination_effective" in r.json()["detail"]


async def test_a_notice_that_cannot_render_with_the_current_facts_is_a_422_with_the_reason(
    api: httpx.AsyncClient,
) -> None:
    case_id = await termination_case(api)
    # Without its effective date the termination notice names a deadline that is not set.
    with Session(get_engine()) as s:
        for row in s.exec(select(Deadline).where(Deadline.case_id == case_id)).all():
            s.delete(row)
        s.commit()
    r = await api.get(f"/api/cases/{case_id}/notices/termination_effective/preview")
    assert r.status_code == 422, r.text
    assert "cannot be rendered" in r.json()["detail"] and "effective_date" in r.json()["detail"]


async def breach_case_at_final_report(api: httpx.AsyncClient) -> str:
    """A security breach case driven over the API to its final report, which is held.

    The report is the Provider's: the case runs for a Provider-side copy of the
    reference contract (from the Customer's side it would be expected, never written).
    """
    now = dt.datetime.now(dt.UTC)
    terms = reference_term_sheet().model_copy(update={"our_side": "provider"})
    r = await api.post("/api/contracts", json=terms.model_dump(mode="json"))
    assert r.status_code == 201, r.text
    r = await api.post(
        f"/api/contracts/{r.json()['id']}/cases",
        json={
            "clause": "security_breach",
            "facts": {
                "discovered_at": iso(now - dt.timedelta(hours=2)),
                "description": "A misconfigured storage bucket exposed call detail records",
            },
        },
        headers={"Idempotency-Key": "breach"},
    )
    assert r.status_code == 201, r.text
    case_id = str(r.json()["id"])
    for fact, values in (
        ("customer_notified", {"how": "Call with the CISO", "notified_at": iso(now)}),
        ("mitigation_update", {"summary": "Bucket locked down", "next_steps": "Forensics"}),
        ("final_report", {"root_cause": "Public-read ACL", "remediation": "ACL policy in CI"}),
    ):
        r = await api.post(
            f"/api/cases/{case_id}/facts",
            json={"fact": fact, "values": values, "recorded_by": "ciso@provider.example.com"},
        )
        assert r.status_code == 200, r.text
    assert r.json()["state"] == "final_report_given"
    return case_id


async def test_a_held_notice_is_listed_previewed_and_goes_out_once_approved(
    api: httpx.AsyncClient,
) -> None:
    case_id = await breach_case_at_final_report(api)
    held = (await api.get("/api/notices", params={"status": "awaiting_approval"})).json()
    assert held["total"] == 1
    [item] = held["items"]
    assert item["notice"] == "final_report" and item["case_id"] == case_id
    assert item["status"] == "awaiting_approval" and item["sent_at"] is None
    key = item["notice_key"]
    preview = (await api.get(f"/api/cases/{case_id}/notices/final_report/preview")).json()
    assert preview["requires_approval"] is True and "Public-read ACL" in preview["body_text"]

    r = await api.post(
        f"/api/cases/{case_id}/notices/{key}/approve",
        json={"approved_by": "counsel@provider.example.com", "reason": "reviewed with the CISO"},
    )
    assert r.status_code == 200, r.text
    sent = r.json()
    assert sent["notice_key"] == key and sent["status"] == "outboxed"
    # The record names the caller, and whom they approved for.
    assert sent["approved_by"] == "token:test-admin for counsel@provider.example.com"
    assert sent["approved_at"]
    assert sent["to"] == CUSTOMER and "Public-read ACL" in sent["body_text"]
    none_held = await api.get("/api/notices", params={"status": "awaiting_approval"})
    assert none_held.json()["total"] == 0

    evidence = (await api.get(f"/api/notices/{sent['id']}/evidence")).json()
    assert evidence["approval"]["approved_by"].endswith("for counsel@provider.example.com")
    assert evidence["approval"]["reason"] == "reviewed with the CISO"
    assert evidence["rule"] == "final_report_closes_case"
    # The case ends once its last held notice is out; a second approval is refused.
    again = await api.post(
        f"/api/cases/{case_id}/notices/{key}/approve", json={"approved_by": "counsel"}
    )
    assert again.status_code == 409


async def test_approvals_the_case_refuses_are_409s_with_the_reason(api: httpx.AsyncClient) -> None:
    case_id = await breach_case_at_final_report(api)
    r = await api.post(
        f"/api/cases/{case_id}/notices/final_report:nope/approve", json={"approved_by": "counsel"}
    )
    assert r.status_code == 409
    assert "no notice 'final_report:nope' is waiting for approval" in r.json()["detail"]
    assert "final_report:fact:final_report" in r.json()["detail"]  # names the one waiting
    [item] = (await api.get("/api/notices", params={"status": "awaiting_approval"})).json()["items"]
    r = await api.post(
        f"/api/cases/{case_id}/notices/{item['notice_key']}/approve", json={"approved_by": ""}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "approved_by"
    # Nothing was sent by the refused attempts.
    held = next(n for n in notices(case_id) if n.notice == "final_report")
    assert held.status == "awaiting_approval" and held.approved_by is None
    # Without approved_by the caller approves in their own name.
    r = await api.post(f"/api/cases/{case_id}/notices/{item['notice_key']}/approve", json={})
    assert r.status_code == 200, r.text
    assert r.json()["approved_by"] == "token:test-admin"


async def test_a_held_notice_is_corrected_over_the_api_then_goes_out_corrected(
    api: httpx.AsyncClient,
) -> None:
    case_id = await breach_case_at_final_report(api)
    [held] = [n for n in notices(case_id) if n.status == "awaiting_approval"]
    url = f"/api/cases/{case_id}/notices/{held.notice_key}/revise"
    r = await api.post(url, json={"values": {}, "reason": "x"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "values"
    r = await api.post(url, json={"values": {"root_cause": "y"}})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "reason"
    r = await api.post(
        url, json={"values": {"discovered_at": "2026-01-01T00:00:00Z"}, "reason": "x"}
    )
    assert r.status_code == 409
    assert "values.discovered_at cannot be corrected here" in r.json()["detail"]
    assert "root_cause" in r.json()["detail"]  # names what can be
    cause = "The bucket policy allowed public reads"
    r = await api.post(url, json={"values": {"root_cause": cause}, "reason": "counsel asked"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "awaiting_approval" and r.json()["id"] == held.id
    [revised] = [n for n in notices(case_id) if n.notice == "final_report"]
    assert cause in revised.body_text and "Public-read ACL" not in revised.body_text
    assert revised.text_sha256 != held.text_sha256
    r = await api.post(f"/api/cases/{case_id}/notices/{held.notice_key}/approve", json={})
    assert r.status_code == 200 and r.json()["status"] == "outboxed"
    assert cause in next(n for n in notices(case_id) if n.id == held.id).body_text
    # Gone out: it is evidence now, and the case no longer waits for anything.
    r = await api.post(url, json={"values": {"root_cause": "later"}, "reason": "x"})
    assert r.status_code == 409 and "no longer running" in r.json()["detail"]


async def test_approving_in_an_unknown_case_is_a_404(api: httpx.AsyncClient) -> None:
    r = await api.post(
        "/api/cases/case_nope/notices/final_report:x/approve", json={"approved_by": "counsel"}
    )
    assert r.status_code == 404 and "case_nope" in r.json()["detail"]


async def test_the_notice_list_filters_by_status_and_refuses_unknown_ones(
    api: httpx.AsyncClient,
) -> None:
    await termination_case(api)
    assert (await api.get("/api/notices", params={"status": "outboxed"})).json()["total"] == 1
    assert (await api.get("/api/notices", params={"status": "sent"})).json()["total"] == 0
    r = await api.get("/api/notices", params={"status": "lost"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.status"
