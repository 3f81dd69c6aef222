"""Feeds: the home page now; following, community and For you feeds in later issues."""
