"""Imports every domain's models so SQLAlchemy's metadata (create_all, Alembic) sees the whole schema."""
from app.accounts import models as accounts_models  # noqa: F401
from app.affiliate import models as affiliate_models  # noqa: F401
from app.communities import models as communities_models  # noqa: F401
from app.events import models as events_models  # noqa: F401
from app.feeds import models as feeds_models  # noqa: F401
from app.groupbuy import models as groupbuy_models  # noqa: F401
from app.jobs import models as jobs_models  # noqa: F401
from app.moderation import models as moderation_models  # noqa: F401
from app.posts import models as posts_models  # noqa: F401
from app.search import models as search_models  # noqa: F401
from app.shop import aftersale_models as shop_aftersale_models  # noqa: F401
from app.shop import models as shop_models  # noqa: F401
from app.social import models as social_models  # noqa: F401
