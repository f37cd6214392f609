"""What the bot says to volunteers (担い手), in one place."""
from __future__ import annotations

VOLUNTEER = {
    "intro": (
        "お手伝いの申し出、ありがとうございます。\n"
        "できること・地区・曜日・時間を、ボタンで順にえらんでください（1分ほどで終わります）。"
    ),
    "pick_categories": "できることをえらんでください（いくつでも）。えらび終わったら「つぎへ」。",
    "pick_areas": "お手伝いできる地区をえらんでください（いくつでも）。",
    "pick_days": "お手伝いできる曜日をえらんでください。",
    "pick_times": "お手伝いできる時間帯をえらんでください。",
    "ask_car": "車での送り迎えはできますか？",
    "car_yes": "できる",
    "car_no": "できない",
    "next": "つぎへ",
    "pick_one": "ひとつ以上えらんでから「つぎへ」を押してください。",
    "confirm": "【登録内容】\n・できること：{categories}\n・地区：{areas}\n・曜日：{days}\n・時間：{times}\n・車：{car}\nこの内容で登録しますか？",
    "register": "登録する",
    "redo": "やりなおす",
    "registered": "登録しました。お手伝いのお願いが来たら、こちらでお知らせします。",
    "mine": "【あなたの申し出】\n・できること：{categories}\n・地区：{areas}\n・曜日と時間：{slots}\n・車：{car}\n・状態：{state}",
    "offer_cancelled": "登録をやめました。いままでの登録は変わっていません。",
    "state_active": "受付中",
    "state_paused": "お休み中",
    "change": "変更する",
    "pause": "お休みする",
    "resume": "再開する",
    "paused": "お休みにしました。再開するときは「わたしの登録」から「再開する」を押してください。",
    "resumed": "再開しました。お願いが来たらお知らせします。",
    "no_offer": "まだ申し出の登録がありません。「手伝いたい」から登録できます。",
    # -- request cards (only category, area and time: no name, no address) --
    "request_title": "お手伝いのお願い",
    "request_alt": "お手伝いのお願い：{category}（{area}）",
    "accept": "引き受ける",
    "decline": "今回は見送る",
    "taken": "ありがとうございます。このお願いは、ほかの方が引き受けてくださいました。",
    "closed": "このお願いは、もう受付を終えました。ありがとうございました。",
    "declined": "わかりました。またの機会によろしくお願いします。",
    "approval_declined": "引き受けてくださりありがとうございました。今回はコーディネーターが別の形で調整することになりました。またお願いするときはよろしくお願いします。",
    "accepted_wait_approval": "ありがとうございます。コーディネーターが確認したあと、連絡先をお知らせします。",
    "accepted_contact": (
        "ありがとうございます。よろしくお願いします。\n"
        "・内容：{category}\n・いつ：{when}\n・地区：{area}\n・お名前：{resident}さん\n・連絡先：{contact}\n"
        "・ご相談：{words}\n{yours}\n終わったら「おわりました」を押してください。"
    ),
    "done": "おわりました",
    "thanks_done": "おつかれさまでした。ありがとうございました。",
    "no_contact": "電話番号の登録がありません（連絡はコーディネーターがLINEで取り次ぎます）",
    "not_approved": (
        "「{category}」（{when}）を引き受けてくださり、ありがとうございました。\n"
        "コーディネーターと相談した結果、今回はほかの方法でお手伝いすることになりました。"
        "またの機会によろしくお願いします。"
    ),
    "your_phone_given": "住民の方にも、あなたの電話番号（{phone}）をお伝えしました。",
    "your_phone_none": "あなたの電話番号は登録がないため、住民の方には伝えていません。",
    "call": "電話する",
}
