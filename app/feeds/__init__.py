"""Feeds: the home page, the Following, community, tag and trending feeds, and For you (the recommender's
candidates re-scored with fresh social signals)."""
