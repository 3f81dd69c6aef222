"""A note's statistics page for its author (/p/<id>/stats): numbers, a chart per day, sales it brought."""
from __future__ import annotations

from babel.dates import format_skeleton
from flask import render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core.charts import line_chart
from app.posts import services as posts
from app.shop import note_stats
from app.shop.views_common import bp


@bp.get("/p/<id:post_id>/stats")
@login_required
def note_statistics(post_id: int):
    post = posts.get_post(post_id)
    days = note_stats.parse_period(request.args.get("days"))
    stats = note_stats.note_stats(current_user, post, days)
    labels = [format_skeleton("MMMd", day, locale=get_locale()) for day in stats.days]  # "Dec 7" / "12月7日"
    reach = line_chart(labels, [(_("Views"), stats.series["impression"], "chart-views"),
                                (_("Opens"), stats.series["open"], "chart-opens")], _("Views and opens per day"))
    actions = line_chart(labels, [(_("Likes"), stats.series["like"], "chart-likes"),
                                  (_("Saves"), stats.series["save"], "chart-saves"),
                                  (_("Comments"), stats.series["comment"], "chart-comments"),
                                  (_("Product clicks"), stats.series["product_click"], "chart-clicks")],
                         _("What readers did per day"))
    sales = line_chart(labels, [(_("Units sold"), stats.series["sales_units"], "chart-sales")],
                       _("Units sold from this note per day"))
    return render_template("shop/note_stats.html", post=post, stats=stats, days=days, periods=note_stats.PERIODS,
                           reach=reach, actions=actions, sales=sales)
