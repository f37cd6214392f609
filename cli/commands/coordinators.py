"""`sasaeai coordinators`: the only way (with the console) a LINE user becomes a coordinator."""
from __future__ import annotations

from sqlalchemy import select

from cli.commands._common import unit_of_work


def run_assign(args) -> int:
    from domain.clock import SystemClock
    from domain import people
    from domain.areas import by_code

    now = SystemClock().now()
    with unit_of_work() as session:
        area = by_code(session, args.area_code)
        if area is None:
            print(f"地区コード {args.area_code} が見つかりません")
            return 1
        person = people.get_or_create_person(session, args.line_user_id, now)
        if not person.consented:  # staff agree to their name and role being kept, as employees
            people.record_consent(person, True, now)
        if args.name:
            people.set_profile(person, now, display_name=args.name)
        try:
            people.assign_coordinator(session, person, area, now)
        except ValueError as exc:
            print(f"割り当てできません: {exc}")
            return 1
        print(f"{args.name or args.line_user_id} を {area.name} のコーディネーターにしました")
    return 0


def run_list(args) -> int:
    from domain.models import Area, CoordinatorArea, Person

    with unit_of_work() as session:
        rows = session.execute(select(Person.display_name, Person.line_user_id, Area.name, Area.layer)
                               .join(CoordinatorArea, CoordinatorArea.person_id == Person.id)
                               .join(Area, Area.id == CoordinatorArea.area_id).order_by(Area.code))
        for name, line_id, area, layer in rows:
            print(f"{area}\t{layer}\t{name or '-'}\t{line_id or '-'}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("coordinators", help="生活支援コーディネーターの割り当て")
    sub = parser.add_subparsers(dest="coordinators_command", metavar="ACTION", required=True)
    assign = sub.add_parser("assign", help="make a LINE user the coordinator of a district or the city")
    assign.add_argument("line_user_id")
    assign.add_argument("area_code")
    assign.add_argument("--name", help="表示名")
    assign.set_defaults(func=run_assign)
    listing = sub.add_parser("list", help="coordinators and their areas")
    listing.set_defaults(func=run_list)
