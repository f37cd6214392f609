"""`sasaeai coordinators`: the only way (with the console) a LINE user becomes a coordinator.

`assign` gives the role and links the coordinators' rich menu; `remove` takes the role and
every area assignment away, ends the person's console sessions at once and links the menu of
the roles they keep.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.line_api import LineApi
from bot.richmenu import link_for_roles
from cli.commands._common import setup, unit_of_work
from domain import people, staff
from domain.areas import by_code
from domain.clock import SystemClock
from domain.models import Area, CoordinatorArea, Person
from domain.people import find_by_line_id


def _relink_menu(line_user_id: str, roles: set[str]) -> None:
    """Best effort: the rich menu of the person's roles (the role change is already saved)."""
    config = setup()
    if not config.line_channel_access_token:
        print("LINE_CHANNEL_ACCESS_TOKEN が未設定のため、リッチメニューは切り替えていません")
        return

    api = LineApi(config.line_api_base_url, config.line_channel_access_token, timeout=config.line_request_timeout)
    try:
        outcome = link_for_roles(api, line_user_id, roles)
    finally:
        api.close()
    print(f"リッチメニュー: {outcome}")


def run_assign(args) -> int:
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
        roles = set(person.roles)
        print(f"{args.name or args.line_user_id} を {area.name} のコーディネーターにしました")
    if not args.no_menu:
        _relink_menu(args.line_user_id, roles)
    return 0


def remove_coordinator_now(session: Session, line_user_id: str, now: datetime) -> int | None:
    """Revoke the role and end the console sessions; None when there is no such person."""
    person = find_by_line_id(session, line_user_id)
    if person is None:
        return None
    return staff.remove_coordinator(session, person, now)


def run_remove(args) -> int:
    with unit_of_work() as session:
        ended = remove_coordinator_now(session, args.line_user_id, SystemClock().now())
        if ended is None:
            print(f"{args.line_user_id} は登録されていません")
            return 1
        roles = set(find_by_line_id(session, args.line_user_id).roles)
    print(f"{args.line_user_id} のコーディネーターの役割を外しました（コンソールのセッション {ended} 件を終了）")
    if not args.no_menu:
        _relink_menu(args.line_user_id, roles)
    return 0


def run_list(args) -> int:
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
    assign.add_argument("--no-menu", action="store_true", help="do not link the coordinators' rich menu")
    assign.set_defaults(func=run_assign)
    remove = sub.add_parser("remove", help="take the coordinator role away and end their console sessions")
    remove.add_argument("line_user_id")
    remove.add_argument("--no-menu", action="store_true", help="do not change the rich menu on LINE")
    remove.set_defaults(func=run_remove)
    listing = sub.add_parser("list", help="coordinators and their areas")
    listing.set_defaults(func=run_list)
