"""What the bot says to residents (and to anyone not yet known), in one place.

Short, polite, concrete: readers are often over 75. Placeholders use str.format names.
"""
from __future__ import annotations

RESIDENT = {
    # -- follow and consent --
    "greeting": (
        "友だち追加ありがとうございます。\n"
        "「ささえあい」は、お住まいの地域の助け合いにつなぐ窓口です。"
        "買い物、通院の付き添い、ゴミ出しなど、困っていることを気軽にご相談ください。"
    ),
    "welcome_back": "おかえりなさい。また「ささえあい」をよろしくお願いします。",
    "privacy_notice": (
        "【個人情報について】\n"
        "ご相談の内容とお住まいの地区を、地域の生活支援コーディネーター（社会福祉協議会）と"
        "お手伝いする方に、必要なときだけお知らせします。\n"
        "ほかの目的には使いません。「わたしのデータを消す」と送ると、いつでも消せます。\n"
        "よろしければ「同意する」を押してください。"
    ),
    "consent_yes": "同意する",
    "consent_no": "同意しない",
    "consent_thanks": "ありがとうございます。",
    "consent_declined": (
        "わかりました。ご相談の内容は保存しません。\n"
        "地域のサロンや体操の会などの情報はご覧いただけます。"
        "気が変わったら、いつでも「同意する」を押してください。"
    ),
    "consent_needed": (
        "ご相談を受け付けるには、個人情報の取り扱いへの同意が必要です。"
        "内容をお読みのうえ「同意する」を押してください。"
    ),
    # -- area --
    "ask_district": "お住まいの地区をえらんでください。位置情報を送っていただいても大丈夫です。",
    "ask_neighbourhood": "{district}の中で、いちばん近いところをえらんでください。",
    "area_set": "お住まいの地区を「{area}」にしました。",
    "area_not_found": "位置情報から地区がわかりませんでした。ボタンからえらんでください。",
    "more": "つぎへ",
    "send_location": "位置情報を送る",
    # -- menu --
    "menu": "ご用件をえらんでください。",
    "menu_ask": "困りごとを相談",
    "menu_help": "手伝いたい",
    "menu_info": "地域の情報",
    "menu_person": "人に相談したい",
    "menu_mine": "わたしの登録",
    "menu_usage": "使い方",
    "usage": (
        "【使い方】\n"
        "・困っていることは、ふだんの言葉で書いて送ってください。ひらがなだけでも大丈夫です。\n"
        "・画面の下のメニューやボタンを押すだけでも使えます。\n"
        "・「メニュー」と送ると、いつでも最初にもどります。\n"
        "・急ぎのときや命にかかわるときは、119番や社会福祉協議会にお電話ください。"
    ),
    # -- need --
    "ask_need": "どんなことでお困りですか？\n文字で書いて送るか、下のボタンからえらんでください。",
    "restate": "【確認】\n・内容：{category}\n・地区：{area}\n・いつ：{when}\n・ご相談：{words}\nこれでよろしいですか？",
    "when_any": "いつでもよい",
    "confirm_yes": "はい",
    "fix_category": "内容を直す",
    "fix_area": "地区を直す",
    "fix_when": "日時を直す",
    "ask_category": "どの種類のご相談ですか？ えらんでください。",
    "ask_when": "いつごろがよいですか？ えらぶか、文字で書いてください（例：来週の火曜の午前）。",
    "when_today": "今日",
    "when_tomorrow": "明日",
    "when_this_week": "今週中",
    "when_next_week": "来週",
    "when_not_understood": "日時が読み取れませんでした。ボタンからえらぶか「来週の火曜の午前」のように書いてください。",
    "suggestions_intro": "近くで、こんなところがあります。",
    "suggestions_alt": "近くの助け合いの情報（{count}件）",
    "suggestions_none": "近くで合うところが見つかりませんでした。近くの担い手さんに声をかけてみます。",
    "ok_thanks": "これで大丈夫",
    "want_more": "ほかの助けがほしい",
    "resolved_by_resource": "よかったです。また困ったことがあれば、いつでもご相談ください。",
    "ask_phone": (
        "担い手さんから連絡するための電話番号を教えてください（例：024-123-4567）。"
        "電話を使わない場合は「電話なし」を押してください。"
    ),
    "no_phone": "電話なし",
    "phone_invalid": "電話番号が読み取れませんでした。数字とハイフンで送るか「電話なし」を押してください。",
    "asking_volunteers": "近くの担い手さんに声をかけています。決まったらこちらでお知らせします。",
    "volunteer_found": "{volunteer}さんが引き受けてくれました。\n・内容：{category}\n・いつ：{when}\n・連絡先：{contact}\n{volunteer}さんからご連絡します。",
    "volunteer_found_pending": "担い手さんが見つかりました。コーディネーターが確認したあと、連絡先をお知らせします。",
    "escalated": "地区の生活支援コーディネーター（{district}）から、{by}までにご連絡します。しばらくお待ちください。",
    "no_contact": "LINEでご連絡します",
    "card_phone": "電話する",
    "card_when": "いつ",
    "card_where": "どこ",
    "card_what": "内容",
    "card_hours": "時間",
    "card_map": "地図",
    # -- safety --
    "emergency": (
        "【命にかかわるときは、すぐに119番へ】\n"
        "・意識がない、息が苦しい、胸が痛い、火事のとき：119番に電話してください。\n"
        "・電話では「救急です」「火事です」と伝え、住所を言ってください。\n"
        "・迷ったときは救急安心センター（#7119）に相談できます。"
    ),
    "crisis": (
        "つらい気持ちを伝えてくださって、ありがとうございます。ひとりで抱えこまないでください。\n"
        "・こころの健康相談統一ダイヤル：0570-064-556\n"
        "・よりそいホットライン（24時間）：0120-279-338\n"
        "・暴力や虐待、お金を取られるなどのときは、地域包括支援センターか警察相談専用電話（#9110）へ。\n"
        "・いますぐ危ないときは110番・119番へ。"
    ),
    "coordinator_told": "地区のコーディネーターにもすぐにお知らせしました。",
    "space_offer_thanks": "場所のお申し出、ありがとうございます。コーディネーターが確認して、ご連絡します。",
    "mine": "【あなたの登録】\n・地区：{area}\n・電話：{phone}",
    "delete_label": "データを消す",
    # -- data --
    "delete_confirm": "あなたの登録とご相談の記録をすべて消します。よろしいですか？",
    "delete_yes": "消す",
    "delete_no": "消さない",
    "deleted": "データを消しました。ご利用ありがとうございました。またいつでもご相談ください。",
    "delete_cancelled": "消さずにそのままにしました。",
    # -- misc --
    "coordinator_suggests": "地区のコーディネーターから、こちらのご案内です。",
    "bot_failed": "メッセージをうまく受け取れませんでした。地区のコーディネーターにお伝えしましたので、ご連絡をお待ちください。",
    "stale_button": "このボタンは使えなくなりました。下のメニューからもう一度えらんでください。",
    "not_yours": "このボタンは、ほかの方あてのものでした。メニューからもう一度えらんでください。",
    "not_text": "スタンプや写真ありがとうございます。ご用件は文字で送るか、下のボタンを押してください。",
    "expired": "前のご相談の途中でしたが、時間がたったので最初からにします。",
    "acknowledge_text": (
        "メッセージを受け取りました。ありがとうございます。\n"
        "ご相談は「困りごとを相談」のボタンから、またはそのまま文字で送ってください。"
    ),
    "info_intro": "地域の情報です。",
    "no_info": "まだ地域の情報がありません。",
    "person_requested": "わかりました。地区のコーディネーターにお伝えしました。",
}

# -- safety answers, one per family (issue 10). Numbers come from configuration
# (domain/settings.py Config: SASAEAI_*_NUMBER); a line whose number is empty is left out.
# Each answer is a list of (line, the numbers it needs).
SAFETY_ANSWERS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "medical": [
        ("【命にかかわるときは、すぐに{emergency}番へ】", ("emergency",)),
        ("・意識がない、息が苦しい、胸が痛い、ろれつが回らないときは、{emergency}番に電話して「救急です」と伝え、住所を言ってください。", ("emergency",)),
        ("・救急車を呼ぶか迷ったら、救急安心センター（{emergency_advice}）に相談できます。", ("emergency_advice",)),
    ],
    "injury": [
        ("【命にかかわるときは、すぐに{emergency}番へ】", ("emergency",)),
        ("・動けない、血が止まらない、頭を打った、ひどいやけどのときは、{emergency}番に電話して「救急です」と伝え、住所を言ってください。", ("emergency",)),
        ("・無理に動かさず、体を冷やさないようにしてください。", ()),
        ("・救急車を呼ぶか迷ったら、救急安心センター（{emergency_advice}）に相談できます。", ("emergency_advice",)),
    ],
    "fire": [
        ("【火事のときは、すぐに逃げて{emergency}番へ】", ("emergency",)),
        ("・{emergency}番では「火事です」と伝え、住所を言ってください。", ("emergency",)),
        ("・ガスのにおいがするときは、火をつけず、電気のスイッチにもさわらず、窓を開けて外に出てから連絡してください。", ()),
    ],
    "missing": [
        ("【ご家族が見つからないときは、すぐに{police}番へ】", ("police",)),
        ("・「認知症の家族が帰ってこない」と伝えてください。服装や写真があると探しやすくなります。", ()),
        ("・けがや具合が悪そうなときは{emergency}番へ。", ("emergency",)),
    ],
    "fraud": [
        ("【それは詐欺かもしれません】", ()),
        ("・電話はすぐに切ってください。", ()),
        ("・ATMには行かないでください。", ()),
        ("・キャッシュカードや通帳、暗証番号は、だれにも渡さない・教えないでください。", ()),
        ("・警察相談専用電話（{police_consultation}）に相談してください。", ("police_consultation",)),
        ("・いま家に来ている、脅されているなど危ないときは{police}番へ。", ("police",)),
        ("・契約や請求のことは、消費者ホットライン（{consumer_hotline}）へ。", ("consumer_hotline",)),
    ],
    "abuse": [
        ("【ひとりで抱えこまないでください】", ()),
        ("・市の高齢者虐待の相談窓口：{elder_abuse}", ("elder_abuse",)),
        ("・市役所の高齢者虐待の相談窓口（高齢者福祉の担当課）に相談できます。", ("-elder_abuse",)),
        ("・お住まいの地域包括支援センター（{community_care}）に相談できます。", ("community_care",)),
        ("・お住まいの地域包括支援センターに相談できます。", ("-community_care",)),
        ("・いますぐ危ないときは{police}番へ。", ("police",)),
    ],
    "despair": [
        ("つらい気持ちを伝えてくださって、ありがとうございます。ひとりで抱えこまないでください。", ()),
        ("・よりそいホットライン（24時間）：{yorisoi}", ("yorisoi",)),
        ("・こころの健康相談統一ダイヤル：{mental_health}", ("mental_health",)),
        ("・いますぐ命が危ないときは{emergency}番へ。", ("emergency",)),
    ],
    "dv": [
        ("【暴力を受けているときは、ひとりで抱えこまないでください】", ()),
        ("・DV相談ナビ：{dv_navi}（近くの相談窓口につながります）", ("dv_navi",)),
        ("・DV相談＋（24時間）：{dv_plus}", ("dv_plus",)),
        ("・いますぐ危ないときは{police}番へ。", ("police",)),
    ],
}
# tel: buttons under each answer: (label, number key), in order; at most four are shown.
SAFETY_CALLS: dict[str, list[tuple[str, str]]] = {
    "medical": [("{n}に電話（救急）", "emergency"), ("{n}に相談", "emergency_advice")],
    "injury": [("{n}に電話（救急）", "emergency"), ("{n}に相談", "emergency_advice")],
    "fire": [("{n}に電話（火事）", "emergency")],
    "missing": [("{n}に電話（警察）", "police"), ("{n}に電話（救急）", "emergency")],
    "fraud": [("{n}に相談（警察）", "police_consultation"), ("{n}に電話（警察）", "police"),
              ("{n}に相談（消費者）", "consumer_hotline")],
    "abuse": [("虐待の相談窓口に電話", "elder_abuse"), ("包括支援センターに電話", "community_care"),
              ("{n}に電話（警察）", "police")],
    "despair": [("よりそいホットライン", "yorisoi"), ("こころの健康相談", "mental_health")],
    "dv": [("DV相談ナビ {n}", "dv_navi"), ("DV相談＋", "dv_plus"), ("{n}に電話（警察）", "police")],
}
SAFETY_TEXT = {
    "coordinator_told": "地区のコーディネーターにもすぐにお知らせしました。",
    # only suspected: the guidance anyway, then one question
    "ask_emergency": "念のためおたずねします。いま命にかかわる状態ですか？",
    "ask_crisis": "念のためおたずねします。だれかに危ないことをされていますか？",
    "yes": "はい",
    "no": "いいえ",
    "check_told": "地区のコーディネーターにも確認をお願いしました。",
    "confirmed": "すぐに電話してください。地区のコーディネーターにも急ぎで知らせました。",
    "not_urgent": "わかりました。安心しました。では、ご相談の内容をうかがいます。",
}
