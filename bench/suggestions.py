"""Benchmark: suggestion latency (load candidates + rank) at 1k, 10k and 100k resources.

    .venv/bin/python bench/suggestions.py                 # SQLite in a temp file
    .venv/bin/python bench/suggestions.py --pg postgresql://postgres@127.0.0.1:5432/test
    TEST_DATABASE_URL=postgresql://… .venv/bin/python bench/suggestions.py

A city of 38 districts with 10 neighbourhoods each, 50,000 volunteers with offers, and
resources added in steps (1k → 10k → 100k). For a few hundred random needs it times
suggest_resources_for (resources) and volunteers_to_ask (volunteers), and beside them one
primary-key lookup on the same database, so the numbers can be read against the machine.
PostgreSQL runs in a database made for the run and dropped afterwards.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time as clock
import uuid
from datetime import datetime, time, timezone
from pathlib import Path

from sqlalchemy import insert, select, text

from domain.db import make_engine, make_session_factory, normalise_url
from scratch import scratch_postgres
from migrations import upgrade
from domain import suggestions
from domain.categories import CATEGORY_CODES
from domain.models import (
    Area, Need, Offer, OfferArea, OfferCategory, OfferCoverage, OfferSlot, Person, Resource, ResourceArea,
    ResourceCategory, ResourceClosure, ResourceCoverage, ResourceSchedule,
)
from domain.schedule import PARTS, Wanted

NOW = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)
STEPS = (1_000, 10_000, 100_000)
VOLUNTEERS = 50_000
DISTRICTS, NEIGHBOURHOODS = 38, 10
KINDS = ("salon", "exercise_group", "meal_delivery", "watch_network", "transport", "shop_delivery",
         "mutual_aid", "npo_service", "care_provider", "public_facility")
BATCH = 5_000


def chunks(rows, size=BATCH):
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def bulk(session, table, rows):
    for part in chunks(rows):
        session.execute(insert(table), part)


class City:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.areas = []           # (id, layer, parent_id, lat, lon)
        self.city = (1, "city", None, 37.40, 140.36)
        self.areas.append(self.city)
        next_id = 2
        self.districts, self.neighbourhoods = [], []
        for d in range(DISTRICTS):
            lat, lon = 37.40 + rng.uniform(-0.12, 0.12), 140.36 + rng.uniform(-0.15, 0.15)
            district = (next_id, "district", 1, lat, lon)
            next_id += 1
            self.areas.append(district)
            self.districts.append(district)
            for n in range(NEIGHBOURHOODS):
                nb = (next_id, "neighbourhood", district[0], lat + rng.uniform(-0.01, 0.01),
                      lon + rng.uniform(-0.012, 0.012))
                next_id += 1
                self.areas.append(nb)
                self.neighbourhoods.append(nb)

    def insert(self, session):
        bulk(session, Area, [dict(id=a[0], code=f"a{a[0]}", name=f"地区{a[0]}", kana="", layer=a[1],
                                  parent_id=a[2], lat=a[3], lon=a[4], sort_order=0)
                             for a in self.areas])

    def place(self):
        """An area served: 79.5% a neighbourhood, 20% a district, 0.5% the whole city."""
        r = self.rng.random()
        if r < 0.005:
            return self.city
        if r < 0.205:
            return self.rng.choice(self.districts)
        return self.rng.choice(self.neighbourhoods)


def add_resources(session, city: City, first_id: int, count: int, rng: random.Random):
    res, cats, areas, scheds, closures, coverage = [], [], [], [], [], []
    for rid in range(first_id, first_id + count):
        area = city.place()
        res.append(dict(id=rid, name=f"資源{rid}", kana="", kind=rng.choice(KINDS),
                        provider_type="resident", provider_name="", description="", venue="公民館",
                        address="", lat=area[3] + rng.uniform(-0.01, 0.01),
                        lon=area[4] + rng.uniform(-0.01, 0.01), fee="", eligibility="",
                        accessibility="", phone="", url="", status="active", source="bench",
                        external_id=str(rid), source_file=None, last_verified_on=None,
                        offered_by_id=None, created_at=NOW, updated_at=NOW))
        for code in rng.sample(CATEGORY_CODES, rng.choice((1, 2, 2, 3))):
            cats.append(dict(resource_id=rid, category=code))
            # what resources.apply() keeps in step: categories × areas
            coverage.append(dict(category=code, area_id=area[0], resource_id=rid))
        areas.append(dict(resource_id=rid, area_id=area[0]))
        for _ in range(rng.choice((1, 1, 2))):
            start = rng.choice((9, 10, 13, 14))
            monthly = rng.random() < 0.3
            scheds.append(dict(resource_id=rid, kind="monthly" if monthly else "weekly",
                               weekdays=1 << rng.randrange(7), weeks=(1 << rng.randrange(4)) if monthly else 0,
                               start_time=time(start), end_time=time(start + 2), note=""))
        if rng.random() < 0.05:
            closures.append(dict(resource_id=rid, on_date=datetime(2026, 12, 2).date(), note=""))
    for table, rows in ((Resource, res), (ResourceCategory, cats), (ResourceArea, areas),
                        (ResourceSchedule, scheds), (ResourceClosure, closures),
                        (ResourceCoverage, coverage)):
        bulk(session, table, rows)


def add_volunteers(session, city: City, rng: random.Random):
    persons, offers, cats, areas, slots, coverage = [], [], [], [], [], []
    for pid in range(1, VOLUNTEERS + 1):
        home = rng.choice(city.neighbourhoods)
        persons.append(dict(id=pid, line_user_id="U" + uuid.UUID(int=pid).hex, display_name="",
                            consent="given", consent_at=NOW, area_id=home[0], phone=None,
                            active=True, unfollowed_at=None,
                            last_asked_at=None if rng.random() < 0.5 else NOW,
                            created_at=NOW, updated_at=NOW))
        offers.append(dict(id=pid, person_id=pid, has_car=rng.random() < 0.3,
                           paused=rng.random() < 0.05, note="", created_at=NOW, updated_at=NOW))
        served = home[2] if rng.random() < 0.6 else home[0]
        areas.append(dict(offer_id=pid, area_id=served))
        for code in rng.sample(CATEGORY_CODES, 2):
            cats.append(dict(offer_id=pid, category=code))
            coverage.append(dict(category=code, area_id=served, offer_id=pid))
        for day in rng.sample(range(7), rng.choice((1, 2, 3))):
            start = rng.choice((9, 13, 17))
            slots.append(dict(offer_id=pid, weekday=day, start_time=time(start),
                              end_time=time(start + 3)))
    for table, rows in ((Person, persons), (Offer, offers), (OfferCategory, cats),
                        (OfferArea, areas), (OfferSlot, slots), (OfferCoverage, coverage)):
        bulk(session, table, rows)


def random_needs(city: City, rng: random.Random, n: int):
    out = []
    for _ in range(n):
        area = rng.choice(city.neighbourhoods if rng.random() < 0.8 else city.districts)
        if rng.random() < 0.5:
            wanted = Wanted(weekdays=1 << rng.randrange(7), parts=rng.choice(list(PARTS)))
        else:
            wanted = Wanted()
        out.append((rng.choice(CATEGORY_CODES), area[0], wanted))
    return out


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def measure(sessions, city, rng, samples, total_resources):
    needs = random_needs(city, rng, samples)
    res_t, vol_t, pk_t, found = [], [], [], 0
    with sessions() as session:
        # warm up the connection and the statement cache
        for category, area_id, wanted in needs[:10]:
            suggestions.suggest_resources_for(session, category=category, area_id=area_id, now=NOW,
                                           wanted=wanted)
        for category, area_id, wanted in needs:
            t0 = clock.perf_counter()
            got = suggestions.suggest_resources_for(session, category=category, area_id=area_id,
                                                 now=NOW, wanted=wanted)
            t1 = clock.perf_counter()
            need = Need(category=category, area_id=area_id, person_id=None,
                        wanted_start=None, wanted_end=None, wanted_weekdays=wanted.weekdays,
                        wanted_parts=wanted.parts, urgency="normal")
            suggestions.volunteers_to_ask(session, need, NOW)
            t2 = clock.perf_counter()
            rid = rng.randint(1, total_resources)
            session.execute(select(Resource.id, Resource.name).where(Resource.id == rid)).one()
            t3 = clock.perf_counter()
            res_t.append((t1 - t0) * 1000)
            vol_t.append((t2 - t1) * 1000)
            pk_t.append((t3 - t2) * 1000)
            found += bool(got)
            session.expunge_all()
    return res_t, vol_t, pk_t, found


def run(url: str, label: str, samples: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    city = City(rng)
    lines = []
    t0 = clock.perf_counter()
    with sessions.begin() as session:
        city.insert(session)
        add_volunteers(session, city, rng)
    setup_s = clock.perf_counter() - t0
    print(f"[{label}] {len(city.areas)} areas and {VOLUNTEERS:,} volunteers in {setup_s:.1f}s",
          file=sys.stderr)
    have = 0
    for step in STEPS:
        t0 = clock.perf_counter()
        with sessions.begin() as session:
            add_resources(session, city, have + 1, step - have, rng)
        have = step
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
        load_s = clock.perf_counter() - t0
        res_t, vol_t, pk_t, found = measure(sessions, city, rng, samples, have)
        lines.append(
            f"| {label} | {step:>7,} | {pct(res_t, 50):6.2f} | {pct(res_t, 99):6.2f} | "
            f"{pct(vol_t, 50):6.2f} | {pct(vol_t, 99):6.2f} | {pct(pk_t, 50):6.3f} | "
            f"{found}/{samples} | {load_s:5.1f} |")
        print(lines[-1], file=sys.stderr)
    engine.dispose()
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL"),
                        help="PostgreSQL server URL (a database is created and dropped)")
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args(argv)
    header = ["| database | resources | resources p50 ms | p99 ms | volunteers p50 ms | p99 ms | "
              "pk lookup p50 ms | needs with a suggestion | insert s |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    lines = []
    started = clock.perf_counter()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            lines += run(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "SQLite", args.samples, args.seed)
    if args.pg:
        with scratch_postgres(normalise_url(args.pg)) as url:
            lines += run(url, "PostgreSQL", args.samples, args.seed)
    print("\n".join(header + lines))
    print(f"\n{VOLUNTEERS:,} volunteers, {DISTRICTS} districts × {NEIGHBOURHOODS} neighbourhoods, "
          f"{args.samples} random needs per step; total {clock.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
