"""Background work of the tracker app: webhooks. Tasks stay thin and call tracker.webhooks."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from tracker import webhooks


@shared_task(name="tracker.tasks.queue_webhook_deliveries")
def queue_webhook_deliveries() -> int:
    """Turn new changes into deliveries and re-send lost ones (periodic, and after writes)."""
    return webhooks.queue_deliveries() + webhooks.requeue_stale()


@shared_task(
    bind=True,
    name="tracker.tasks.deliver_webhook",
    # Acknowledged only once done: a worker killed mid-request leaves the
    # message to be handed out again (at-least-once; same webhook-id).
    acks_late=True,
    reject_on_worker_lost=True,
    # Attempts are counted in the delivery log, which decides when to stop.
    max_retries=None,
)
def deliver_webhook(self: Any, delivery_id: int) -> None:
    """POST one event; on failure, retry later with exponential backoff."""
    retry_in = webhooks.attempt_delivery(delivery_id)
    # Run eagerly (no broker), a retry would run at once: the sweep sends it later instead.
    if retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=retry_in)
