"""Why an item is recommended: a structured (code, params) the app can translate, and an English rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FOLLOWEES_ENGAGED = "followees_engaged"
FRIENDS_OF_FRIENDS = "friends_of_friends"
BECAUSE_YOU_LIKED = "because_you_liked"
SIMILAR_CONTENT = "similar_content"
POPULAR_IN_COMMUNITY = "popular_in_community"
TRENDING = "trending"
POPULAR = "popular"
FOLLOWED_BY_FOLLOWEES = "followed_by_followees"
SHARED_TASTE = "shared_taste"
ALSO_LIKED = "also_liked"


@dataclass(frozen=True)
class Reason:
    """One explanation: `code` names the template, `params` fill it (user ids, item ids, counts)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """Plain English, with ids where the app would put names."""
        p = self.params
        if self.code in (FOLLOWEES_ENGAGED, FOLLOWED_BY_FOLLOWEES):
            verb = "liked" if self.code == FOLLOWEES_ENGAGED else "followed"
            names = list(p.get("user_ids", []))
            others = int(p.get("others", 0))
            if not names:
                return f"{verb} by people you follow"
            if others:
                return f"{verb} by {names[0]} and {others} other{'s' if others > 1 else ''} you follow"
            if len(names) == 2:
                return f"{verb} by {names[0]} and {names[1]}, whom you follow"
            return f"{verb} by {names[0]}, whom you follow"
        if self.code == FRIENDS_OF_FRIENDS:
            return "liked by people your friends follow"
        if self.code == BECAUSE_YOU_LIKED:
            if not (p.get("title") or p.get("item_id")):
                return "because of items you liked"
            return f"because you liked {p.get('title') or p.get('item_id')}"
        if self.code == SIMILAR_CONTENT:
            return f"similar to {p.get('title') or p.get('item_id')}, which you liked"
        if self.code == POPULAR_IN_COMMUNITY:
            return f"popular in {p.get('community')}"
        if self.code == TRENDING:
            return "popular this week"
        if self.code == SHARED_TASTE:
            return f"likes {p.get('shared', 0)} of the same things as you"
        if self.code == ALSO_LIKED:
            return f"people who liked {p.get('title') or p.get('item_id')} also liked this"
        return "popular"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: code, params and the English text."""
        return {"code": self.code, "params": dict(self.params), "text": self.text()}
