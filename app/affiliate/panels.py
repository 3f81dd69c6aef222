"""`affiliate_panel(kind, obj)`: what the posts' and the shop's templates show of commissions — the share
button, the disclosure that a sharer earns on this purchase, and the product's real sales figures — rendered
here so those lower layers never import this package (create_app registers it as a template global)."""
from __future__ import annotations

from flask import render_template, request
from flask_login import current_user
from markupsafe import Markup

from app.affiliate import attribution, reports
from app.core.i18n import compact_count


def sold_label(units: int) -> str:
    """Units sold as shoppers read them, the same compact form as the product cards: "12.3K" / "1.2万"."""
    return compact_count(units)


def affiliate_panel(kind: str, obj) -> Markup:
    user_id = current_user.id if current_user.is_authenticated else None
    context: dict = {"kind": kind, "obj": obj}
    if kind == "post":
        if getattr(obj, "status", None) != "published":
            return Markup("")
    elif kind == "product":
        from app.affiliate.views import VISITOR_COOKIE

        context["touch"] = attribution.visitor_touch(user_id=user_id, anon_id=request.cookies.get(VISITOR_COOKIE),
                                                     product_id=obj.id)
        context["sold"], context["via_notes"] = reports.product_sales(obj.id)
        context["sold_text"] = sold_label(context["sold"])
        context["estimate"], context["rate"] = attribution.estimated_commission(obj)
        context["from_post"] = request.args.get("from", "")
    elif kind == "order":
        context["attributions"] = attribution.order_attributions(obj.id)
        if not context["attributions"]:
            return Markup("")
    elif kind != "shop_manage":
        return Markup("")
    return Markup(render_template("affiliate/_panel.html", **context))  # nosec B704 # -- render_template output, autoescaped by Jinja
