"""With Redis, work with a deadline goes to the queue workers drain first, so a re-indexing backlog never
delays an expiry or a refund (the rehearsal showed reservations outliving their window behind ~250 search
jobs a fresh seed had queued)."""
import os
from datetime import datetime

import pytest

from app.jobs import runner
from tests.conftest import redis_or_skip

REDIS_URL = os.environ.get("TEST_JOBS_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def redis_queues():
    from rq import Queue

    client = redis_or_skip(REDIS_URL)
    queues = {name: Queue(name, connection=client) for name in runner.WORKER_QUEUES}
    for queue in queues.values():
        queue.empty()
    yield client, queues
    for queue in queues.values():
        queue.empty()
    client.close()


def test_schedules_and_refunds_jump_the_indexing_backlog(app, redis_queues):
    from rq import Queue

    client, queues = redis_queues
    app.config["REDIS_URL"] = REDIS_URL
    with app.app_context():
        backlog = [runner.enqueue("app.search.indexing:refresh_counts", keys=[f"post:{n}"]) for n in range(5)]
        fired = runner.run_due_schedules(datetime(2026, 12, 6, 23, 40))
        runner.enqueue_urgent("app.groupbuy.services:refund_member", member_id=1)
    assert "shop-expire-reservations" in fired and "groupbuy-expire-groups" in fired
    assert queues[runner.DEFAULT_QUEUE].job_ids == backlog
    urgent = [queues[runner.URGENT_QUEUE].fetch_job(job_id).args[0] for job_id in queues[runner.URGENT_QUEUE].job_ids]
    assert "app.shop.orders:expire_reservations" in urgent and urgent[-1] == "app.groupbuy.services:refund_member"
    # What a worker takes next, queue by queue in WORKER_QUEUES order (RQ's own dequeue): every urgent job first.
    order = []
    while (found := Queue.dequeue_any(list(queues[name] for name in runner.WORKER_QUEUES), None,
                                      connection=client)) is not None:
        order.append(found[1].name)
    assert order == [runner.URGENT_QUEUE] * len(urgent) + [runner.DEFAULT_QUEUE] * len(backlog)
