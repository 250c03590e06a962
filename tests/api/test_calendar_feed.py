"""A contract's deadlines as an iCalendar feed at a secret URL (RFC 5545)."""

from __future__ import annotations

import datetime as dt
import hashlib
from itertools import pairwise
from typing import Any

import httpx
from icalendar import Calendar
from icalendar.parser import unescape_backslash
from sqlmodel import Session, select

from api.calendar_feeds import escape_text, fold
from store.db import get_engine
from store.models import AuditEntry, CalendarFeed, Contract, Deadline
from tests.api.conftest import ApiAs
from tests.api.helpers import a_case_without_a_next_deadline
from tests.dates import at_ny_on, described, ny_today

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
FEED = "/api/contracts/ctr_reference_msa/calendar-feed"
BASE = "http://127.0.0.1:8000"  # settings.public_base_url


def unfold(body: str) -> list[str]:
    """The content lines of a feed, folded lines joined again (RFC 5545 §3.1)."""
    return body.replace("\r\n ", "").split("\r\n")


def events(body: str) -> dict[str, dict[str, str]]:
    """Each VEVENT's properties (name without parameters → value), by UID."""
    found: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in unfold(body):
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT" and current is not None:
            found[current["UID"]] = current
            current = None
        elif current is not None:
            name, _, value = line.partition(":")
            current[name.split(";")[0]] = value
    return found


def seed_case(case_id: str, *, closed: bool = False, **deadlines: dict[str, Any]) -> None:
    with Session(get_engine()) as s:
        s.add(
            a_case_without_a_next_deadline(
                case_id,
                NOW,
                clause="material_breach",
                state="cure_period_running",
                state_label="Cure period running; the party in breach must cure it",
                closed=closed,
            )
        )
        for name, kw in deadlines.items():
            values: dict[str, Any] = dict(
                case_id=case_id,
                name=name,
                group=name,
                label="Cure period ends",
                due_at=NOW + dt.timedelta(days=30),
                explanation=["Rule (MSA §10): 30 calendar days after the notice."],
                set_at_step=1,
                updated_at=NOW,
            )
            values.update(kw)
            s.add(Deadline(**values))
        s.commit()


async def make_feed(api: httpx.AsyncClient) -> str:
    """Creates the reference contract's feed as the admin; returns its path."""
    r = await api.post(FEED)
    assert r.status_code == 201, r.text
    url = r.json()["url"]
    assert url.startswith(f"{BASE}/calendar/") and url.endswith(".ics")
    return url.removeprefix(BASE)


async def test_the_feed_lists_each_pending_deadline_of_the_open_cases(
    api: httpx.AsyncClient, api_as: ApiAs
) -> None:
    due = dt.datetime(2027, 1, 4, 4, 59, tzinfo=dt.UTC)
    seed_case(
        "case_a",
        cure_period={"due_at": due},
        cure_reminder={
            "label": "Reminder, before the cure period ends",
            "due_at": due - dt.timedelta(days=7),
        },
        old={"status": "reached"},
        gone={"status": "cancelled"},
    )
    seed_case("case_closed", closed=True, cure_period={})
    path = await make_feed(api)

    r = await api_as(None).get(path)  # a calendar app sends no credentials
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/calendar; charset=utf-8"
    body = r.text
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert "\n" not in body.replace("\r\n", "")  # every line ends in CRLF
    lines = unfold(body)
    for header in (
        "PRODID:-//Clauseflow//Contract deadlines//EN",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ):
        assert header in lines
    with Session(get_engine()) as s:
        contract = s.get(Contract, "ctr_reference_msa")
        assert contract is not None
    assert f"X-WR-CALNAME:{escape_text(contract.title + ': deadlines')}" in lines

    found = events(body)
    assert set(found) == {"case_a.cure_period@clauseflow", "case_a.cure_reminder@clauseflow"}
    cure = found["case_a.cure_period@clauseflow"]
    assert cure["DTSTART"] == "20270104T045900Z"
    assert cure["DURATION"] == "PT30M"
    assert cure["SEQUENCE"] == "0"
    assert cure["DTSTAMP"].endswith("Z")
    assert cure["SUMMARY"] == "Cure period ends — Material breach and termination for cause (§10)"
    assert cure["URL"] == f"{BASE}/console/cases/case_a"
    description = cure["DESCRIPTION"]
    assert description.startswith("Cure period running\\; the party in breach must cure it.\\n")
    assert "Due Sun 3 Jan 2027 23:59 New York time." in description
    assert "Rule (MSA §10): 30 calendar days after the notice." in description
    # Every physical line is at most 75 octets.
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))


async def test_a_started_case_shows_up_with_its_explanations(
    api: httpx.AsyncClient, api_as: ApiAs
) -> None:
    received = (NOW - dt.timedelta(days=1)).isoformat()
    r = await api.post(
        "/api/contracts/ctr_reference_msa/cases",
        json={
            "clause": "termination_for_convenience",
            "facts": {"notice_received_at": received, "given_by": "customer"},
        },
        headers={"Idempotency-Key": "feed"},
    )
    assert r.status_code == 201, r.text
    case = r.json()
    found = events((await api_as(None).get(await make_feed(api))).text)
    pending = {d["name"]: d for d in case["deadlines"] if d["status"] == "pending"}
    assert set(found) == {f"{case['id']}.{name}@clauseflow" for name in pending}
    effective = found[f"{case['id']}.effective_date@clauseflow"]
    due = dt.datetime.fromisoformat(pending["effective_date"]["due_at"])
    assert effective["DTSTART"] == due.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    assert "Under NY GCL § 20 the event day" in effective["DESCRIPTION"]
    assert effective["SUMMARY"].startswith(escape_text(pending["effective_date"]["label"]))


async def test_a_moved_deadline_keeps_its_uid_with_a_higher_sequence(
    api: httpx.AsyncClient, api_as: ApiAs
) -> None:
    seed_case("case_m", cure_period={"due_at": dt.datetime(2027, 1, 4, 4, 59, tzinfo=dt.UTC)})
    path = await make_feed(api)
    calendar = api_as(None)
    before = events((await calendar.get(path)).text)["case_m.cure_period@clauseflow"]

    # What record_step writes when an amendment (or a rule) moves the deadline.
    with Session(get_engine()) as s:
        row = s.exec(select(Deadline).where(Deadline.case_id == "case_m")).one()
        row.original_due_at = row.due_at
        row.due_at = dt.datetime(2027, 2, 1, 4, 59, tzinfo=dt.UTC)
        row.revision += 1
        row.updated_at = NOW + dt.timedelta(minutes=5)
        s.add(row)
        s.commit()

    after = events((await calendar.get(path)).text)["case_m.cure_period@clauseflow"]
    assert (before["SEQUENCE"], after["SEQUENCE"]) == ("0", "1")
    assert (before["DTSTART"], after["DTSTART"]) == ("20270104T045900Z", "20270201T045900Z")
    assert after["DTSTAMP"] > before["DTSTAMP"]
    assert "Amended\\; originally due Sun 3 Jan 2027 23:59 New York time." in after["DESCRIPTION"]


async def test_a_new_feed_revokes_the_old_url_and_only_its_hash_is_kept(
    api: httpx.AsyncClient, api_as: ApiAs
) -> None:
    calendar = api_as(None)
    first = await make_feed(api)
    second = await make_feed(api)
    assert first != second
    assert (await calendar.get(first)).status_code == 404
    assert (await calendar.get(second)).status_code == 200
    token = second.removeprefix("/calendar/").removesuffix(".ics")
    with Session(get_engine()) as s:
        feeds = list(s.exec(select(CalendarFeed)))
        assert [f.revoked_at is None for f in feeds].count(True) == 1
        active = next(f for f in feeds if f.revoked_at is None)
        assert active.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert active.created_by == "token:test-admin"
        stored = " ".join(str(v) for f in feeds for v in f.model_dump().values())
        assert token not in stored
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "calendar_feed_created")).all()

    assert (await api.delete(FEED)).status_code == 204
    assert (await calendar.get(second)).status_code == 404
    assert (await api.delete(FEED)).status_code == 404  # nothing left to revoke
    assert (await calendar.get("/calendar/not-a-token.ics")).status_code == 404


async def test_only_contract_managers_and_admins_make_feeds(api_as: ApiAs) -> None:
    for role, status in (("viewer", 403), ("operator", 403), ("contract_manager", 201)):
        assert (await api_as(role).post(FEED)).status_code == status, role
    assert (await api_as(None).post(FEED)).status_code == 401
    assert (await api_as("contract_manager").delete(FEED)).status_code == 204
    missing = await api_as("admin").post("/api/contracts/ctr_nobody/calendar-feed")
    assert missing.status_code == 404


async def test_text_is_escaped_and_long_lines_fold_inside_characters_never(
    api: httpx.AsyncClient, api_as: ApiAs
) -> None:
    with Session(get_engine()) as s:
        contract = s.get(Contract, "ctr_reference_msa")
        assert contract is not None
        contract.title = "Acme, Inc.; Überservice — master agreement\\2026"
        s.add(contract)
        s.commit()
    long_line = "Überprüfung; " * 20 + "end"
    seed_case(
        "case_e",
        cure_period={"label": "Cure, or else; really", "explanation": ["first", long_line]},
    )
    body = (await api_as(None).get(await make_feed(api))).text
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    lines = unfold(body)
    assert "X-WR-CALNAME:Acme\\, Inc.\\; Überservice — master agreement\\\\2026: deadlines" in lines
    event = events(body)["case_e.cure_period@clauseflow"]
    assert event["SUMMARY"].startswith("Cure\\, or else\\; really — ")
    assert event["DESCRIPTION"].endswith("\\n\\nfirst\\n" + escape_text(long_line))
    # Folding split no UTF-8 character: every physical line decodes on its own.
    for line in body.encode().split(b"\r\n"):
        line.decode()


def test_escaping_and_folding_follow_rfc_5545() -> None:
    assert escape_text('a\\b;c,d\ne\r\nf"') == 'a\\\\b\\;c\\,d\\ne\\nf"'
    assert fold("X" * 75) == "X" * 75
    assert fold("X" * 76) == "X" * 75 + "\r\n X"
    folded = fold("DESCRIPTION:" + "é" * 60)
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert folded.replace("\r\n ", "") == "DESCRIPTION:" + "é" * 60


async def test_the_feed_parses_back_with_icalendar_to_what_the_store_holds(
    api: httpx.AsyncClient, api_as: ApiAs
) -> None:
    title = "Acme\\Northwind, Inc.; MSA \\n 2026"  # a literal \\N and \\n stay text
    with Session(get_engine()) as s:
        contract = s.get(Contract, "ctr_reference_msa")
        assert contract is not None
        contract.title = title
        s.add(contract)
        s.commit()
    due = dt.datetime(2027, 1, 4, 4, 59, tzinfo=dt.UTC)
    explanation = ["C:\\New folder, item; 2", "Überprüfung; " * 20 + "end"]
    seed_case(
        "case_r",
        cure_period={
            "label": "Cure, or else; really",
            "due_at": due,
            "original_due_at": due - dt.timedelta(days=7),
            "revision": 2,
            "explanation": explanation,
        },
    )
    r = await api_as(None).get(await make_feed(api))
    calendar = Calendar.from_ical(r.content)

    # icalendar hands back X- properties as written: unescape it as the TEXT it is.
    assert unescape_backslash(str(calendar["X-WR-CALNAME"])) == f"{title}: deadlines"
    assert calendar.decoded("REFRESH-INTERVAL") == dt.timedelta(hours=1)
    assert calendar["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == "case_r.cure_period@clauseflow"
    assert event.decoded("SEQUENCE") == 2
    assert event.decoded("DTSTART") == due
    assert event.decoded("DURATION") == dt.timedelta(minutes=30)
    assert event.decoded("DTSTAMP") == event.decoded("LAST-MODIFIED") == NOW
    assert str(event["SUMMARY"]) == (
        "Cure, or else; really — Material breach and termination for cause (§10)"
    )
    assert str(event["DESCRIPTION"]).split("\n") == [
        "Cure period running; the party in breach must cure it.",
        "Due Sun 3 Jan 2027 23:59 New York time.",
        "Amended; originally due Sun 27 Dec 2026 23:59 New York time.",
        "",
        *explanation,
    ]
    assert str(event["URL"]) == f"{BASE}/console/cases/case_r"
    assert (str(event["STATUS"]), str(event["TRANSP"])) == ("CONFIRMED", "TRANSPARENT")


async def test_a_fold_never_splits_an_escape(api: httpx.AsyncClient, api_as: ApiAs) -> None:
    # Escapes (\, \; \n) at every offset: some land where a 75-octet line folds.
    seed_case(
        "case_f",
        **{
            f"d{i}": {"label": "x" * i + ",;" * 40, "explanation": ["y" * i + "\n,;" * 30]}
            for i in range(3)
        },
    )
    body = (await api_as(None).get(await make_feed(api))).text
    lines = body.split("\r\n")
    folded = [line for line, after in pairwise(lines) if after[:1] == " "]
    assert len(folded) > 10
    # Google Calendar drops an event whose line ends in the backslash of a split escape.
    for line in folded:
        assert (len(line) - len(line.rstrip("\\"))) % 2 == 0, line


async def test_a_deadline_at_the_end_of_its_last_day_is_an_all_day_event_on_that_day(
    api: httpx.AsyncClient, api_as: ApiAs
) -> None:
    last_day = ny_today() + dt.timedelta(days=30)
    ends = at_ny_on(last_day + dt.timedelta(days=1))  # the midnight after it
    seed_case(
        "case_d",
        cure_period={"due_at": ends, "last_day": last_day},
        # The same instant as the first moment of the next day is a timed event.
        starts={"label": "Starts", "due_at": ends, "last_day": last_day + dt.timedelta(days=1)},
    )
    body = (await api_as(None).get(await make_feed(api))).text
    lines = unfold(body)
    assert f"DTSTART;VALUE=DATE:{last_day:%Y%m%d}" in lines
    assert f"DTEND;VALUE=DATE:{last_day + dt.timedelta(days=1):%Y%m%d}" in lines
    found = events(body)
    day = found["case_d.cure_period@clauseflow"]
    assert "DURATION" not in day
    assert day["SUMMARY"] == (
        "Cure period ends (end of day) — Material breach and termination for cause (§10)"
    )
    # The day as the notice names it, and the instant for whoever needs it.
    due = f"Due end of {described(last_day)}\\, New York time ({ends:%Y-%m-%dT%H:%M:%SZ})."
    assert due in day["DESCRIPTION"]
    timed = found["case_d.starts@clauseflow"]
    assert (timed["DTSTART"], timed["DURATION"]) == (f"{ends:%Y%m%dT%H%M%SZ}", "PT30M")
    assert timed["SUMMARY"].startswith("Starts — ")
    midnight = f"{described(last_day + dt.timedelta(days=1))} 00:00 New York time"
    assert f"Due {midnight}." in timed["DESCRIPTION"]

    (event,) = [
        e
        for e in Calendar.from_ical(body.encode()).walk("VEVENT")
        if str(e["UID"]) == "case_d.cure_period@clauseflow"
    ]
    assert event.decoded("DTSTART") == last_day
    assert event.decoded("DTEND") == last_day + dt.timedelta(days=1)
