"""Feeds: the home page, the Following, community, tag and trending feeds, profile pages (an author's feed
under their header), and For you (the recommender's candidates re-scored with fresh social signals). Feeds
read from every domain below them; the event log they write and train on is app/events."""
