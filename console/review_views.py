"""The bot's readings to review (/console/review): low confidence, corrected by the resident,
suspected safety signals. One click confirms; one choice corrects category and safety."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from console.blueprint import bp, db, me, now, scope
from console.common import area_names, out_of_scope
from domain import readings
from domain.categories import CATEGORIES


@bp.get("/review")
def review_list():
    reason = request.args.get("reason") if request.args.get("reason") in readings.REASONS else None
    done = request.args.get("done") == "1"
    rows = readings.review_queue(db(), scope(), reason=reason, reviewed=done)
    return render_template("console/review.html", rows=rows, reason=reason or "", done=done,
                           reasons=readings.REASONS, safety_levels=readings.SAFETY_LEVELS,
                           area=lambda a: area_names().get(a, "—"))


@bp.post("/review/<int:reading_id>")
def review_save(reading_id: int):
    reading = readings.get_in_scope(db(), scope(), reading_id)
    if reading is None:
        out_of_scope(f"reading {reading_id}")
    category = request.form.get("category") or None
    safety = request.form.get("safety") or None
    if request.form.get("confirm") == "1":
        category, safety = reading.category, reading.safety
    if (category is not None and category not in CATEGORIES) or (
            safety is not None and safety not in readings.SAFETY_LEVELS):
        flash("refused", "error")
    else:
        readings.review(reading, me(), now(), category=category, safety=safety)
        flash("reading_reviewed", "ok")
    return redirect(url_for("console.review_list", reason=request.form.get("reason") or None))
