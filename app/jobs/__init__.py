"""Background jobs: run inline by default, on RQ queues when REDIS_URL is set; schedules fire once per period."""
