"""Need categories (a contract: the codes never change) and the vocabularies of resources.

Each category knows its Japanese label and whether the district coordinator must approve a
volunteer before the volunteer receives the resident's contact. The rule (PRODUCT.md): anything
that brings a volunteer into or to the resident's home needs approval. Only help that happens
in a public place among others (a 体操 group, a salon, a スマホ教室 at the 公民館) does not.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    code: str
    label: str          # the full Japanese label shown to coordinators
    short: str          # a button label (LINE quick reply labels: 20 characters at most)
    requires_approval: bool
    why: str            # the reason for the approval rule, for the coordinator's manual


# code, label, short, approval, why — one table, decide here and nowhere else.
_TABLE = (
    ("shopping", "買い物", "買い物", True, "玄関先まで行き、お金を預かる"),
    ("outing", "通院・外出の付き添い・送迎", "通院・外出", True, "自宅へ迎えに行く・車に乗せる"),
    ("housework", "家事・電球交換・簡単な修理", "家事・修理", True, "家の中に入る"),
    ("garbage", "ゴミ出し", "ゴミ出し", True, "毎回自宅へ行き、一人暮らしが知られる"),
    ("meals", "配食・食事", "配食・食事", True, "自宅へ届ける"),
    ("watch", "見守り・安否確認", "見守り", True, "自宅を訪ねる"),
    ("talk", "話し相手", "話し相手", True, "自宅を訪ねることが多い"),
    ("exercise", "運動・体操・介護予防", "運動・体操", False, "公民館などの集まりで会う"),
    ("salon", "サロン・居場所・集まり", "サロン・集まり", False, "公民館などの集まりで会う"),
    ("garden", "庭の手入れ・草取り", "庭・草取り", True, "敷地に入る"),
    ("snow", "除雪・雪下ろし", "除雪", True, "敷地と屋根に上がる"),
    ("digital", "スマホ・機器の使い方", "スマホ・機器", False, "公民館などで会って教える"),
    ("paperwork", "手続き・書類", "手続き・書類", True, "個人情報の書類を扱う"),
    ("other", "その他", "その他", True, "内容がわからないので安全側"),
)

CATEGORIES: dict[str, Category] = {row[0]: Category(*row) for row in _TABLE}
CATEGORY_CODES: tuple[str, ...] = tuple(CATEGORIES)


class UnknownCategory(ValueError):
    pass


def category(code: str) -> Category:
    try:
        return CATEGORIES[code]
    except KeyError:
        raise UnknownCategory(code) from None


def label(code: str) -> str:
    return category(code).label


def requires_approval(code: str) -> bool:
    """True when a volunteer needs the coordinator's approval before meeting the resident."""
    return category(code).requires_approval


# Kinds of 社会資源 (HSDS "service" flavour). code -> Japanese label.
RESOURCE_KINDS: dict[str, str] = {
    "salon": "サロン・居場所",
    "exercise_group": "体操・通いの場",
    "meal_delivery": "配食サービス",
    "watch_network": "見守りネットワーク",
    "transport": "移動支援・送迎",
    "shop_delivery": "買い物支援・移動販売・宅配",
    "mutual_aid": "住民の助け合い",
    "npo_service": "NPOのサービス",
    "shakyo_service": "社協のサービス",
    "care_provider": "介護サービス事業所",
    "silver_center": "シルバー人材センター",
    "consultation": "相談窓口",
    "public_facility": "公共施設",
    "offered_space": "住民が提供する場所",
    "other": "その他",
}

# Who runs it. code -> Japanese label.
PROVIDER_TYPES: dict[str, str] = {
    "resident": "住民主体",
    "npo": "NPO",
    "shakyo": "社協",
    "private": "民間",
    "care": "介護事業所",
    "government": "行政",
    "other": "その他",
}
