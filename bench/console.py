"""Benchmark: the console's pages with 10,000 cases and 50,000 needs, on SQLite and PostgreSQL.

    .venv/bin/python bench/console.py                 # SQLite in a temp file
    .venv/bin/python bench/console.py --pg postgresql://postgres@127.0.0.1:5432/test
    TEST_DATABASE_URL=postgresql://… .venv/bin/python bench/console.py

A city of 38 districts × 10 neighbourhoods; 20,000 residents, 2,000 volunteers, 5,000
resources, 50,000 needs of which 10,000 became cases (open, acknowledged, resolved, raised)
with their audit rows. Each page is requested through the whole Flask app (session cookie,
Flask-Login, scoping, templates) as a district coordinator and as a city coordinator; the table
gives p50 and p95 in milliseconds and whether p95 is under the 200 ms target.
PostgreSQL runs in a database made for the run and dropped afterwards.

With --all-pages it goes on with the console's second half (resources, volunteers, meetings,
見える化, review) and the 協議体 xlsx at 50,000 needs, on each engine: bench/console2.py.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time as clock
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from suggestions import City, bulk, pct  # noqa: E402  (bench/suggestions.py: the same city)

from domain import escalation as esc  # noqa: E402
from domain.categories import CATEGORY_CODES  # noqa: E402
from domain.clock import FixedClock  # noqa: E402
from domain.db import normalise_url, transaction  # noqa: E402
from scratch import scratch_postgres  # noqa: E402
from domain.models import (  # noqa: E402
    CoordinatorArea, Need, Offer, OfferArea, OfferCategory, Person, PersonRole, Resource, ResourceArea,
    ResourceCategory,
)
from migrations import upgrade  # noqa: E402

NOW = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)
RESIDENTS, VOLUNTEERS, RESOURCES = 20_000, 2_000, 5_000
NEEDS, CASES = 50_000, 10_000
TARGET_MS = 200.0
WORDS = ("買い物に行けなくて困っています", "病院まで付き添ってほしい", "電球を替えてほしい", "ゴミ出しがつらい",
         "話し相手がほしい", "雪かきができません", "庭の草取りをお願いしたい", "書類の書き方がわからない")
NEED_STATUSES = ("received", "suggested", "asking", "matched", "resolved", "cancelled")
CASE_STATUSES = ("open",) * 3 + ("acknowledged",) * 2 + ("resolved",) * 4 + ("raised",)


def populate(sessions, rng: random.Random) -> dict:
    city = City(rng)
    district_of = {n[0]: n[2] for n in city.neighbourhoods}
    people, roles, coord_areas, offers, offer_areas, offer_cats = [], [], [], [], [], []
    pid = 0

    def person(area_id, name):
        nonlocal pid
        pid += 1
        people.append(dict(id=pid, line_user_id="U" + uuid.UUID(int=pid).hex, display_name=name, consent="given",
                           consent_at=NOW, area_id=area_id, phone="024-000-0000", active=True, unfollowed_at=None,
                           last_asked_at=None, created_at=NOW, updated_at=NOW))
        return pid

    residents = [person(rng.choice(city.neighbourhoods)[0], f"住民{i}") for i in range(RESIDENTS)]
    for i in range(VOLUNTEERS):
        home = rng.choice(city.neighbourhoods)
        vid = person(home[0], f"担い手{i}")
        roles.append(dict(person_id=vid, role="volunteer", granted_at=NOW - timedelta(days=rng.randrange(300))))
        offers.append(dict(id=vid, person_id=vid, has_car=False, paused=rng.random() < 0.05, note="",
                           created_at=NOW, updated_at=NOW))
        offer_areas.append(dict(offer_id=vid, area_id=home[2]))
        for code in rng.sample(CATEGORY_CODES, 2):
            offer_cats.append(dict(offer_id=vid, category=code))
    coordinators = {}
    for district in city.districts:
        cid = person(None, f"コーディネーター{district[0]}")
        roles.append(dict(person_id=cid, role="coordinator", granted_at=NOW))
        coord_areas.append(dict(person_id=cid, area_id=district[0], assigned_at=NOW))
        coordinators[district[0]] = cid
    city_id = person(None, "市のコーディネーター")
    roles.append(dict(person_id=city_id, role="coordinator", granted_at=NOW))
    coord_areas.append(dict(person_id=city_id, area_id=city.city[0], assigned_at=NOW))

    needs, cases, audits = [], [], []
    case_needs = set(rng.sample(range(1, NEEDS + 1), CASES))
    for nid in range(1, NEEDS + 1):
        area = rng.choice(city.neighbourhoods)
        created = NOW - timedelta(minutes=rng.randrange(365 * 24 * 60))
        status = "escalated" if nid in case_needs else rng.choice(NEED_STATUSES)
        needs.append(dict(id=nid, person_id=rng.choice(residents), category=rng.choice(CATEGORY_CODES),
                          area_id=area[0], wanted_start=None, wanted_end=None, wanted_weekdays=0, wanted_parts=0,
                          urgency="urgent" if rng.random() < 0.05 else "normal", words=rng.choice(WORDS),
                          status=status, created_at=created, updated_at=created, closed_at=None))
        if nid in case_needs:
            case_status = rng.choice(CASE_STATUSES)
            cid = len(cases) + 1
            district = district_of[area[0]]
            owner = coordinators[district] if case_status != "open" else None
            cases.append(dict(id=cid, need_id=nid, reason=esc.NO_MATCH, urgency=needs[-1]["urgency"],
                              area_id=district, status=case_status, created_at=created,
                              ack_due_at=created + timedelta(days=1), resolve_due_at=created + timedelta(days=14),
                              owner_id=owner, acknowledged_at=created if owner else None,
                              closed_at=created + timedelta(days=3) if case_status in ("resolved", "raised") else None,
                              outcome="resource" if case_status == "resolved" else None, renotified_at=None,
                              sent_to_city_at=None, overdue_at=None))
            for action in ("escalated", "contact_viewed", "acknowledged"):
                audits.append(dict(at=created, actor_id=owner, action=action, escalation_id=cid, detail=""))
    resources, res_areas, res_cats = [], [], []
    for rid in range(1, RESOURCES + 1):
        area = city.place()
        resources.append(dict(id=rid, name=f"資源{rid}", kana="", kind="salon", provider_type="resident",
                              provider_name="", description="", venue="公民館", address="", lat=area[3], lon=area[4],
                              fee="", eligibility="", accessibility="", phone="024-000-0000", url="",
                              status="candidate" if rng.random() < 0.05 else "active", source="bench",
                              external_id=str(rid), source_file=None, last_verified_on=None, offered_by_id=None,
                              created_at=NOW, updated_at=NOW))
        res_areas.append(dict(resource_id=rid, area_id=area[0]))
        res_cats.append(dict(resource_id=rid, category=rng.choice(CATEGORY_CODES)))
    with transaction(sessions) as session:
        city.insert(session)
        for table, rows in ((Person, people), (PersonRole, roles), (CoordinatorArea, coord_areas), (Offer, offers),
                            (OfferArea, offer_areas), (OfferCategory, offer_cats), (Resource, resources),
                            (ResourceArea, res_areas), (ResourceCategory, res_cats)):
            bulk(session, table, rows)
        for table, rows in ((Need.__table__, needs), (esc.Escalation.__table__, cases),
                            (esc.AuditEntry.__table__, audits)):
            for start in range(0, len(rows), 5000):
                session.execute(insert(table), rows[start:start + 5000])
    district = city.districts[0][0]
    in_district = [c["id"] for c in cases if c["area_id"] == district]
    return {"district_coordinator": coordinators[district], "city_coordinator": city_id,
            "district_case": in_district[0], "any_case": cases[-1]["id"], "cases_in_district": len(in_district)}


PAGES = (
    ("floor: /healthz", "/healthz"),  # SELECT 1 through the same app: what the machine gives now
    ("my cases", "/console/"),
    ("cases", "/console/cases"),
    ("cases overdue", "/console/cases?overdue=1"),
    ("cases text search", "/console/cases?q=%E8%B2%B7%E3%81%84%E7%89%A9&status=all"),
    ("cases all, page 5", "/console/cases?status=all&page=5"),
    ("one case", "/console/cases/{case}"),
    ("needs", "/console/needs"),
    ("needs escalated", "/console/needs?status=escalated"),
    ("volunteers", "/console/volunteers"),
    ("resources", "/console/resources"),
)


def measure(url: str, label: str, samples: int, seed: int) -> list[str]:
    from domain import staff
    from domain.settings import Config
    from webhook import Services, create_app

    upgrade(url)
    config = Config(line_channel_secret="bench-secret", database_url=url, line_login_channel_id="1",
                    line_login_channel_secret="bench-login-secret", log_level="WARNING")
    services = Services.build(config, clock=FixedClock(NOW))
    t0 = clock.perf_counter()
    facts = populate(services.sessions, random.Random(seed))
    with services.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    print(f"[{label}] {NEEDS:,} needs, {CASES:,} cases loaded in {clock.perf_counter() - t0:.1f}s "
          f"({facts['cases_in_district']} cases in the measured district)", file=sys.stderr)
    app = create_app(services=services)
    lines = []
    for who, person_key, case_key in (("district", "district_coordinator", "district_case"),
                                      ("city", "city_coordinator", "any_case")):
        with transaction(services.sessions) as session:
            token = staff.start_session(session, session.get(Person, facts[person_key]), NOW)
        client = app.test_client()
        with client.session_transaction() as cookie:
            cookie["_user_id"], cookie["_fresh"] = token, True
        for name, path in PAGES:
            path = path.format(case=facts[case_key])
            for _ in range(3):  # warm the statement and template caches
                assert client.get(path).status_code == 200, (path, client.get(path).status_code)
            timings, cpu = [], []
            for _ in range(samples):
                start, start_cpu = clock.perf_counter(), clock.thread_time()
                response = client.get(path)
                timings.append((clock.perf_counter() - start) * 1000)
                cpu.append((clock.thread_time() - start_cpu) * 1000)
                assert response.status_code == 200
            p95 = pct(timings, 95)
            lines.append(f"| {label} | {who} | {name} | {pct(timings, 50):7.1f} | {p95:7.1f} | {pct(cpu, 95):7.1f} | "
                         f"{'yes' if p95 < TARGET_MS else 'NO'} |")
            print(lines[-1], file=sys.stderr)
    services.engine.dispose()
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL"),
                        help="PostgreSQL server URL (a database is created and dropped)")
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--all-pages", action="store_true",
                        help="then the second half's pages and the xlsx export (bench/console2.py)")
    args = parser.parse_args(argv)
    header = ["| database | coordinator | page | p50 ms | p95 ms | p95 CPU ms (this process) | p95 < 200 ms |",
              "| --- | --- | --- | ---: | ---: | ---: | :---: |"]
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = []
    started = clock.perf_counter()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            lines += measure(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "SQLite", args.samples, args.seed)
    if args.pg:
        with scratch_postgres(normalise_url(args.pg)) as url:
            lines += measure(url, "PostgreSQL", args.samples, args.seed)
    print("\n".join(header + lines))
    print(f"\n{NEEDS:,} needs, {CASES:,} cases, {RESIDENTS:,} residents, {VOLUNTEERS:,} volunteers, "
          f"{RESOURCES:,} resources; {args.samples} requests per page; total {clock.perf_counter() - started:.0f}s")
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average (1 min) {load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} CPUs: "
          "wall times include waiting for a CPU; the CPU column is this process's own work (with "
          "PostgreSQL the server's work is not in it)")
    ok = all(line.rstrip().endswith("yes |") for line in lines)
    if args.all_pages:
        import console2

        for engine_args in ([] if args.no_sqlite else [["--pg", ""]]) + ([["--pg", args.pg]] if args.pg else []):
            print()
            ok = console2.main(engine_args) == 0 and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
