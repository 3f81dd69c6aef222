"""Operations: the health check load balancers poll.

It reports on the database and the search index, so it sits above the domains it asks about; core stays
free of any domain import.
"""
