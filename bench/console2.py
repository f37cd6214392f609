"""Benchmark: the console pages of issue 15 and the 協議体 xlsx at 50,000 needs.

    .venv/bin/python bench/console2.py                       # SQLite in a temp file
    .venv/bin/python bench/console2.py --pg postgresql://postgres@127.0.0.1:5432/test

A city of 38 districts × 10 neighbourhoods, 50,000 needs over the past year (escalations,
matches, readings), 5,000 volunteers, 3,000 resources, 300 proposals and 400 meetings. The
pages are fetched through the real app (Flask test client, a logged-in console session) by a
district coordinator and by the city coordinator (who sees all 50,000); each page N times, and
the xlsx report of the busiest district over a year. Targets: p95 < 200 ms a page, export < 3 s.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time as clock
import uuid
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from domain import escalation as esc  # noqa: E402
from domain.categories import CATEGORY_CODES  # noqa: E402
from domain.clock import FixedClock  # noqa: E402
from domain.db import normalise_url  # noqa: E402
from scratch import create_scratch, drop_scratch  # noqa: E402
from domain.meetings.models import Meeting, MeetingAnswer, MeetingMember  # noqa: E402
from domain.models import (  # noqa: E402
    Area, CoordinatorArea, Match, Need, Offer, OfferArea, OfferCategory, OfferCoverage, OfferSlot, Person,
    PersonRole, Resource, ResourceArea, ResourceCategory, ResourceCoverage, ResourceSchedule,
)
from domain.readings import Reading  # noqa: E402
from migrations import upgrade  # noqa: E402

NOW = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)
NEEDS, VOLUNTEERS, RESIDENTS, RESOURCES = 50_000, 5_000, 20_000, 3_000
DISTRICTS, NEIGHBOURHOODS = 38, 10
BATCH = 5_000
STATUSES = ("resolved",) * 5 + ("matched", "escalated", "escalated", "asking", "suggested", "received", "cancelled")


def bulk(session, table, rows):
    for i in range(0, len(rows), BATCH):
        session.execute(insert(table), rows[i:i + BATCH])


def populate(url: str, rng: random.Random) -> dict:
    from domain.db import make_engine, make_session_factory

    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as s:
        areas, districts, hoods = [], [], []
        areas.append(dict(id=1, code="city", name="郡山市", kana="", layer="city", parent_id=None, sort_order=0))
        next_id = 2
        for d in range(DISTRICTS):
            districts.append(next_id)
            areas.append(dict(id=next_id, code=f"d{d}", name=f"地区{d}", kana="", layer="district", parent_id=1,
                              sort_order=d))
            parent, next_id = next_id, next_id + 1
            for n in range(NEIGHBOURHOODS):
                hoods.append((next_id, parent))
                areas.append(dict(id=next_id, code=f"d{d}n{n}", name=f"町{d}-{n}", kana="", layer="neighbourhood",
                                  parent_id=parent, sort_order=n))
                next_id += 1
        bulk(s, Area, areas)
        people, roles = [], []
        pid = 0

        def person(area_id, name, phone=None):
            nonlocal pid
            pid += 1
            people.append(dict(id=pid, line_user_id="U" + uuid.UUID(int=pid).hex, display_name=name,
                               consent="given", consent_at=NOW, area_id=area_id, phone=phone, active=True,
                               unfollowed_at=None, last_asked_at=None, created_at=NOW, updated_at=NOW))
            return pid

        city_coord = person(None, "市 コーディネーター")
        district_coord = person(None, "地区0 コーディネーター")
        for p in (city_coord, district_coord):
            roles.append(dict(person_id=p, role="coordinator", granted_at=NOW))
        volunteers = [person(rng.choice(hoods)[0], f"担い手{i}", "090-0000-0000") for i in range(VOLUNTEERS)]
        residents = [person(rng.choice(hoods)[0], f"住民{i}", "024-000-0000") for i in range(RESIDENTS)]
        roles += [dict(person_id=v, role="volunteer", granted_at=NOW) for v in volunteers]
        bulk(s, Person, people)
        bulk(s, PersonRole, roles)
        bulk(s, CoordinatorArea, [dict(person_id=city_coord, area_id=1, assigned_at=NOW),
                                  dict(person_id=district_coord, area_id=districts[0], assigned_at=NOW)])
        offers, ocats, oareas, ocov, slots = [], [], [], [], []
        for i, v in enumerate(volunteers, start=1):
            home = next(h for h in hoods if h[0] == people[v - 1]["area_id"])
            served = home[1] if rng.random() < 0.6 else home[0]
            offers.append(dict(id=i, person_id=v, has_car=rng.random() < 0.3, paused=rng.random() < 0.05, note="",
                               created_at=NOW, updated_at=NOW))
            oareas.append(dict(offer_id=i, area_id=served))
            for code in rng.sample(CATEGORY_CODES, 2):
                ocats.append(dict(offer_id=i, category=code))
                ocov.append(dict(category=code, area_id=served, offer_id=i))
            slots.append(dict(offer_id=i, weekday=rng.randrange(7), start_time=time(9), end_time=time(12)))
        for table, rows in ((Offer, offers), (OfferArea, oareas), (OfferCategory, ocats), (OfferCoverage, ocov),
                            (OfferSlot, slots)):
            bulk(s, table, rows)
        res, rcats, rareas, rcov, scheds = [], [], [], [], []
        for rid in range(1, RESOURCES + 1):
            area = rng.choice(hoods)[0] if rng.random() < 0.8 else rng.choice(districts)
            status = "candidate" if rng.random() < 0.03 else "active"
            res.append(dict(id=rid, name=f"資源{rid}", kana="", kind="salon", provider_type="resident",
                            provider_name="", description="", venue="公民館", address="", lat=None, lon=None, fee="",
                            eligibility="", accessibility="", phone="024-111-1111", url="", status=status,
                            source="bench", external_id=str(rid), source_file=None,
                            last_verified_on=(NOW - timedelta(days=rng.randrange(800))).date()
                            if rng.random() < 0.7 else None,
                            offered_by_id=None, created_at=NOW, updated_at=NOW))
            rareas.append(dict(resource_id=rid, area_id=area))
            for code in rng.sample(CATEGORY_CODES, 2):
                rcats.append(dict(resource_id=rid, category=code))
                rcov.append(dict(category=code, area_id=area, resource_id=rid))
            scheds.append(dict(resource_id=rid, kind="weekly", weekdays=1 << rng.randrange(7), weeks=0,
                               start_time=time(10), end_time=time(12), note=""))
        for table, rows in ((Resource, res), (ResourceArea, rareas), (ResourceCategory, rcats),
                            (ResourceCoverage, rcov), (ResourceSchedule, scheds)):
            bulk(s, table, rows)
        needs, escs, matches, readings = [], [], [], []
        mid = 0
        for nid in range(1, NEEDS + 1):
            hood, district = rng.choice(hoods)
            if nid % 7 == 0:  # the busiest district gets more
                hood, district = rng.choice(hoods[:NEIGHBOURHOODS])
            created = NOW - timedelta(minutes=rng.randrange(365 * 24 * 60))
            status = rng.choice(STATUSES)
            category = rng.choice(CATEGORY_CODES)
            needs.append(dict(id=nid, person_id=rng.choice(residents), category=category, area_id=hood,
                              wanted_weekdays=0, wanted_parts=0, urgency="normal", words="買い物に行けません",
                              status=status, created_at=created, updated_at=created, closed_at=None))
            if status == "escalated" or rng.random() < 0.1:
                acknowledged = created + timedelta(hours=rng.randrange(1, 72)) if rng.random() < 0.8 else None
                done = status in ("resolved", "cancelled")
                escs.append(dict(need_id=nid, reason="no_match", urgency="normal", area_id=district,
                                 status="resolved" if done else ("acknowledged" if acknowledged else "open"),
                                 created_at=created, ack_due_at=created + timedelta(days=1),
                                 resolve_due_at=created + timedelta(days=5), acknowledged_at=acknowledged,
                                 owner_id=district_coord if acknowledged else None,
                                 outcome=rng.choice(esc.OUTCOMES) if done else None))
            if status in ("matched", "resolved") and rng.random() < 0.6:
                mid += 1
                matches.append(dict(id=mid, need_id=nid, volunteer_id=rng.choice(volunteers), offer_id=None,
                                    status="done" if status == "resolved" else "accepted",
                                    requires_approval=status == "matched", approved_at=None, asked_at=created,
                                    responded_at=created + timedelta(hours=rng.randrange(1, 48)),
                                    done_at=created + timedelta(days=2) if status == "resolved" else None,
                                    updated_at=created))
            if nid % 10 == 0:
                readings.append(dict(person_id=needs[-1]["person_id"], area_id=hood, need_id=nid, words="かいもの",
                                     category=category, safety="none", signals="", confidence=rng.random(),
                                     resident_category=None, corrected=rng.random() < 0.1, created_at=created))
        bulk(s, Need, needs)
        bulk(s, esc.Escalation, escs)
        bulk(s, Match, matches)
        bulk(s, Reading, readings)
        bulk(s, esc.Proposal, [dict(district_id=rng.choice(districts), category=rng.choice(CATEGORY_CODES),
                                    text="担い手が足りない", raised_by_id=district_coord,
                                    raised_at=NOW - timedelta(days=rng.randrange(365)), status="proposed")
                               for _ in range(300)])
        meetings, members, answers = [], [], []
        for m in range(1, 401):
            starts = NOW + timedelta(days=rng.randrange(-300, 60))
            area = districts[m % DISTRICTS]
            meetings.append(dict(id=m, layer="district", area_id=area, title=f"協議体{m}", starts_at=starts,
                                 ends_at=starts + timedelta(hours=2), place="公民館", mode="in_person", url="",
                                 status="scheduled", version=1, minutes_note="", cancel_reason="",
                                 organiser_id=district_coord, created_at=NOW, updated_at=NOW))
            for v in rng.sample(volunteers, 12):
                members.append(dict(meeting_id=m, person_id=v))
                if rng.random() < 0.6:
                    answers.append(dict(meeting_id=m, person_id=v, choice=rng.choice(("attend", "absent")), note="",
                                        answered_at=NOW, changes=0))
        bulk(s, Meeting, meetings)
        bulk(s, MeetingMember, members)
        bulk(s, MeetingAnswer, answers)
        s.commit()
    engine.dispose()
    return {"city": city_coord, "district": district_coord, "district_id": districts[0],
            "volunteer": next(v for v in volunteers if people[v - 1]["area_id"] in
                              {h for h, d in hoods if d == districts[0]}),
            "resource": next(r["id"] for r in res if rareas[r["id"] - 1]["area_id"] in
                             {h for h, d in hoods if d == districts[0]} | {districts[0]}),
            "meeting": next(m["id"] for m in meetings if m["area_id"] == districts[0])}


def client_for(app, sessions, person_id: int):
    from domain import staff

    with sessions() as s:
        token = staff.start_session(s, s.get(Person, person_id), NOW)
        s.commit()
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = token
        sess["_fresh"] = True
    return client


def timed(client, path: str, runs: int) -> tuple[list[float], int, float]:
    """Times of `runs` requests after a first one (returned apart: 見える化 counts afresh on it)."""
    times, status = [], 0
    t0 = clock.perf_counter()
    client.get(path)
    first = (clock.perf_counter() - t0) * 1000
    for _ in range(runs):
        t0 = clock.perf_counter()
        response = client.get(path)
        times.append((clock.perf_counter() - t0) * 1000)
        status = response.status_code
    return times, status, first


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL"), help="PostgreSQL server URL")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--db", help="SQLite file to keep (filled once, reused when it exists)")
    args = parser.parse_args(argv)
    rng = random.Random(15)
    scratch_name = None
    if args.pg:
        url, scratch_name = create_scratch(normalise_url(args.pg), "bench_console2")
    else:
        url = "sqlite:///" + (args.db or str(Path(tempfile.mkdtemp()) / "console2.db"))
    try:
        t0 = clock.perf_counter()
        import json

        saved = Path(args.db + ".ids.json") if args.db and not args.pg else None
        if saved is not None and saved.exists():
            ids = json.loads(saved.read_text())
            upgrade(url)
        else:
            ids = populate(url, rng)
            if saved is not None:
                saved.write_text(json.dumps(ids))
        print(f"database: {url.split('@')[-1]}  filled in {clock.perf_counter() - t0:.1f} s "
              f"({NEEDS:,} needs, {VOLUNTEERS:,} volunteers, {RESOURCES:,} resources)")
        from domain.settings import Config
        from webhook import Services, create_app

        config = Config(line_channel_secret="bench", line_channel_access_token="bench",
                        line_api_base_url="http://127.0.0.1:9", database_url=url,
                        line_login_channel_id="1", line_login_channel_secret="bench")
        services = Services.build(config, clock=FixedClock(NOW))
        app = create_app(services=services)
        year = f"start={(NOW - timedelta(days=365)).date()}&end={NOW.date()}"
        d = ids["district_id"]
        pages = [
            ("district", "/console/insights?" + year),
            ("city", "/console/insights?" + year),
            ("city", f"/console/insights?{year}&district={d}"),
            ("district", "/console/resources/candidates"),
            ("district", "/console/resources/stale?months=12"),
            ("district", f"/console/resources/{ids['resource']}"),
            ("district", "/console/volunteers/approvals"),
            ("district", "/console/volunteers/help?" + year),
            ("district", f"/console/volunteers/{ids['volunteer']}"),
            ("district", "/console/meetings"),
            ("district", f"/console/meetings/{ids['meeting']}"),
            ("district", "/console/export"),
            ("district", "/console/review"),
            ("city", "/console/review"),
        ]
        clients = {"district": client_for(app, services.sessions, ids["district"]),
                   "city": client_for(app, services.sessions, ids["city"])}
        print(f"\n{'who':9} {'page':58} {'first':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'status':>6}")
        worst, failures = 0.0, 0
        for who, path in pages:
            times, status, first = timed(clients[who], path, args.runs)
            failures += status != 200
            p95 = pct(times, 95)
            worst = max(worst, p95)
            print(f"{who:9} {path[:58]:58} {first:8.1f} {statistics.median(times):8.1f} {p95:8.1f} "
                  f"{max(times):8.1f} {status:>6}")
        print(f"\nworst page p95: {worst:.1f} ms (target < 200 ms): {'ok' if worst < 200 else 'OVER'}; "
              f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"\n{'export':58} {'seconds':>8} {'bytes':>10} {'status':>6}")
        slowest = 0.0
        for who, path in [("district", f"/console/export/report.xlsx?district={d}&{year}"),
                          ("district", f"/console/export/report.xlsx?district={d}&{year}&contacts=1"),
                          ("city", f"/console/export/report.xlsx?district={d}&{year}"),
                          ("district", f"/console/export/unmet.csv?district={d}&{year}")]:
            runs = []
            for _ in range(3):
                t0 = clock.perf_counter()
                response = clients[who].get(path)
                runs.append(clock.perf_counter() - t0)
            slowest = max(slowest, max(runs))
            failures += response.status_code != 200
            print(f"{(who + ' ' + path)[:58]:58} {max(runs):8.2f} {len(response.data):10,} {response.status_code:>6}")
        print(f"\nslowest export: {slowest:.2f} s (target < 3 s): {'ok' if slowest < 3 else 'OVER'}")
        services.engine.dispose() if hasattr(services, "engine") else None
        if failures:
            print(f"{failures} page(s) or export(s) did not answer 200")
        passed = not failures and worst < 200 and slowest < 3
    finally:
        if scratch_name is not None:
            drop_scratch(normalise_url(args.pg), scratch_name)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
