"""Signed webhooks: signatures, queueing, the delivery log, the API, and a real worker."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from recommendations import services as recommendation_services
from recommendations.models import StatusAssessment, Theme
from tests import factories
from tests.api.conftest import bearer
from tracker import services, webhooks
from tracker.feed import decode_cursor
from tracker.models import Change, WebhookDelivery, WebhookEndpoint
from tracker.roles import Role

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


# A receiver, as a partner would write one ----------------------------------------


class Receiver:
    """A local HTTP server that checks every request's signature, as partners should.

    `answers` gives the status of each request in turn (the last one repeats);
    with `block_first`, the first request is held until `release` is set.
    """

    def __init__(self, answers: list[int] | None = None, block_first: bool = False) -> None:
        self.secret = SECRET
        self.answers = answers or [204]
        self.block_first = block_first
        self.requests: list[dict[str, Any]] = []
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {name.lower(): value for name, value in self.headers.items()}
                with receiver.lock:
                    number = len(receiver.requests)
                    answer = receiver.answers[min(number, len(receiver.answers) - 1)]
                    receiver.requests.append(
                        {
                            "headers": headers,
                            "body": body,
                            "event": json.loads(body),
                            "verified": webhooks.verify(receiver.secret, headers, body),
                            "answer": answer,
                        }
                    )
                if number == 0:
                    receiver.first_arrived.set()
                    if receiver.block_first:
                        receiver.release.wait(timeout=120)
                try:
                    self.send_response(answer)
                    self.end_headers()
                except OSError:
                    pass  # the sender was killed while we waited

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def ids_of(self, predicate: Callable[[dict[str, Any]], bool]) -> list[str]:
        with self.lock:
            return [r["headers"]["webhook-id"] for r in self.requests if predicate(r)]


@pytest.fixture(autouse=True)
def local_endpoints(settings):
    """The receivers here listen on 127.0.0.1, which production refuses."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


def test_it_refuses_endpoints_inside_private_networks(settings, partner):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    for url in ("http://127.0.0.1:6379/", "http://169.254.169.254/latest", "http://[::1]/x"):
        with pytest.raises(ValidationError) as refused:
            webhooks.validate_endpoint_fields(url=url, event_types=[], secret=None)
        assert "url" in refused.value.message_dict, url
        assert webhooks.post(url, b"{}", {})[0] is None, url
    assert webhooks.private_address_of("https://93.184.215.14/hook") is None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def endpoint_for(partner, url: str, event_types=("theme", "assessment")) -> WebhookEndpoint:
    return services.webhook_endpoint_create(
        user=partner, url=url, event_types=list(event_types), secret=SECRET
    )


def delivery_of(endpoint: WebhookEndpoint, entity: str, key: str) -> WebhookDelivery:
    """A delivery of a change made by hand: the same on SQLite, which has no triggers."""
    change = Change.objects.create(
        txid=1, entity=entity, key=key, operation="insert", version=1, changed_at=timezone.now()
    )
    return WebhookDelivery.objects.create(
        endpoint=endpoint, change=change, event_id=webhooks.event_id(endpoint, change)
    )


# Signing -----------------------------------------------------------------------------


def test_it_signs_id_timestamp_and_body_with_the_decoded_secret():
    body = b'{"type":"theme.insert"}'
    expected = base64.b64encode(
        hmac.new(
            b"0123456789abcdef0123456789abcdef",
            b"msg_1_2.1700000000." + body,
            hashlib.sha256,
        ).digest()
    ).decode()
    assert webhooks.sign(SECRET, "msg_1_2", 1700000000, body) == f"v1,{expected}"


def test_it_matches_the_standard_webhooks_published_example():
    # The example of the Standard Webhooks specification's reference libraries.
    signature = webhooks.sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_it_verifies_only_intact_fresh_signatures():
    body = b"{}"
    now = 1_700_000_000
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(now),
        "webhook-signature": "v1,bm9wZQ== " + webhooks.sign(SECRET, "msg_1", now, body),
    }
    assert webhooks.verify(SECRET, headers, body, now=now + 10)
    assert not webhooks.verify(SECRET, headers, b'{"x":1}', now=now)
    assert not webhooks.verify(webhooks.new_secret(), headers, body, now=now)
    assert not webhooks.verify(SECRET, headers, body, now=now + 3600)
    assert not webhooks.verify(SECRET, {**headers, "webhook-id": "msg_2"}, body, now=now)


def test_it_generates_secrets_in_the_standard_form():
    secret = webhooks.new_secret()
    assert secret.startswith("whsec_")
    assert len(webhooks.secret_key(secret)) == 32
    assert secret != webhooks.new_secret()
    for bad in ("nope", "whsec_!!!", "whsec_" + base64.b64encode(b"short").decode()):
        with pytest.raises(ValueError):
            webhooks.secret_key(bad)


# Backoff and the delivery log ----------------------------------------------------------


def test_it_backs_off_exponentially_up_to_a_cap(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.WEBHOOK_RETRY_MAX_DELAY = 1800
    assert [webhooks.retry_delay(n) for n in range(1, 9)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1800,
        1800,
    ]


def test_it_logs_failed_attempts_schedules_retries_and_gives_up(settings, partner):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 10
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    server = Receiver(answers=[500, 503, 502])
    try:
        endpoint = endpoint_for(partner, server.url)
        theme = Theme.objects.create(slug="labour", name="Labour")
        delivery = delivery_of(endpoint, "theme", theme.slug)
        before = timezone.now()
        assert webhooks.attempt_delivery(delivery.pk) == 10
        delivery.refresh_from_db()
        assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
        assert delivery.next_attempt_at is not None
        assert 9 <= (delivery.next_attempt_at - before).total_seconds() <= 15
        assert webhooks.attempt_delivery(delivery.pk) == 20
        assert webhooks.attempt_delivery(delivery.pk) is None  # third and last attempt
        delivery.refresh_from_db()
        assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("failed", 3, 502)
        assert webhooks.attempt_delivery(delivery.pk) is None
        assert len(server.requests) == 3
        # Every attempt of one event carries the same id, each freshly signed.
        assert {r["headers"]["webhook-id"] for r in server.requests} == {delivery.event_id}
        assert all(r["verified"] for r in server.requests)
    finally:
        server.close()


def test_it_delivers_a_signed_event_once(receiver, partner):
    endpoint = endpoint_for(partner, receiver.url)
    theme = Theme.objects.create(slug="labour", name="Labour")
    delivery = delivery_of(endpoint, "theme", theme.slug)
    assert webhooks.attempt_delivery(delivery.pk) is None
    assert webhooks.attempt_delivery(delivery.pk) is None  # a duplicate message: nothing sent
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 204)
    assert delivery.delivered_at is not None
    [request] = receiver.requests
    assert request["verified"]
    assert request["headers"]["webhook-id"] == delivery.event_id
    assert request["headers"]["content-type"] == "application/json"
    event = request["event"]
    assert event["type"] == "theme.insert"
    assert event["data"]["key"] == "labour"
    assert event["data"]["data"]["name"] == "Labour"


def test_it_disables_an_endpoint_that_answers_410(partner):
    server = Receiver(answers=[410])
    try:
        endpoint = endpoint_for(partner, server.url)
        first = delivery_of(endpoint, "theme", Theme.objects.create(slug="a", name="A").slug)
        second = delivery_of(endpoint, "theme", Theme.objects.create(slug="b", name="B").slug)
        assert webhooks.attempt_delivery(first.pk) is None
        endpoint.refresh_from_db()
        assert not endpoint.active
        assert "410" in endpoint.disabled_reason
        first.refresh_from_db()
        assert (first.state, first.last_status_code) == ("failed", 410)
        assert webhooks.attempt_delivery(second.pk) is None
        assert len(server.requests) == 1  # nothing more is sent to it
        second.refresh_from_db()
        assert second.state == "pending"
    finally:
        server.close()


def test_it_withholds_evidence_the_endpoints_user_may_not_read(
    receiver, partner, alice_org, editor
):
    rec = factories.recommendation(factories.organisation("issuer"), "rec-hook")
    recommendation_services.assessment_record(
        recommendation=rec,
        assessor=alice_org,
        recorded_by=editor,
        status="mostly_implemented",
        status_since=datetime.date(2024, 1, 1),
        evidence="internal notes",
        visibility="internal",
        publish=True,
    )
    assessment = StatusAssessment.objects.get()
    endpoint = endpoint_for(partner, receiver.url)
    delivery = delivery_of(endpoint, "assessment", str(assessment.key))
    assert webhooks.attempt_delivery(delivery.pk) is None
    [request] = receiver.requests
    assert request["event"]["data"]["data"]["status"] == "mostly_implemented"
    assert request["event"]["data"]["data"]["evidence"] is None
    assert b"internal notes" not in request["body"]


def test_it_logs_an_unreachable_endpoint_and_retries(partner):
    endpoint = endpoint_for(partner, "http://127.0.0.1:9/hook")
    delivery = delivery_of(endpoint, "theme", Theme.objects.create(slug="a", name="A").slug)
    assert webhooks.attempt_delivery(delivery.pk) == settings.WEBHOOK_RETRY_BASE_SECONDS
    delivery.refresh_from_db()
    assert delivery.state == "pending" and delivery.attempts == 1
    assert delivery.last_status_code is None and delivery.last_error


def test_it_sends_again_deliveries_whose_message_was_lost(
    partner, receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(partner, receiver.url)
    lost = delivery_of(endpoint, "theme", Theme.objects.create(slug="a", name="A").slug)
    recent = delivery_of(endpoint, "theme", Theme.objects.create(slug="b", name="B").slug)
    now = timezone.now()
    long_ago = now - datetime.timedelta(seconds=settings.WEBHOOK_STALE_AFTER_SECONDS + 60)
    WebhookDelivery.objects.filter(pk=lost.pk).update(next_attempt_at=long_ago)
    WebhookDelivery.objects.filter(pk=recent.pk).update(next_attempt_at=now)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert webhooks.requeue_stale(now=now) == 1
        assert webhooks.requeue_stale(now=now) == 0  # moved forward: not sent twice
    assert len(callbacks) == 1


# Queueing from the change feed (PostgreSQL: the feed is written by triggers) ---------


def wait_for(condition: Callable[[], Any], timeout: float = 90.0) -> Any:
    """Poll until `condition()` is truthy: a transaction open anywhere on the database
    server (another test run, say) holds the feed back until it ends."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.3)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_queues_each_change_once_per_endpoint():
    partner = factories.user("pat", Role.PARTNER, factories.organisation("bob-ngo"))
    Theme.objects.create(slug="before", name="Before")
    before = Change.objects.get(key="before")
    # Registered once the theme is below the horizon, so the endpoints start after it.
    wait_for(lambda: decode_cursor(webhooks.feed_head() or "MC4w") >= (before.txid, before.pk))
    themes_only = endpoint_for(partner, "http://127.0.0.1:9/hook", event_types=["theme"])
    everything = endpoint_for(partner, "http://127.0.0.1:9/other", event_types=[])
    Theme.objects.create(slug="after", name="After")
    factories.organisation("new-org")

    def queued() -> int:
        webhooks.queue_deliveries()
        return WebhookDelivery.objects.filter(endpoint=everything).count() >= 2

    assert wait_for(queued)
    keys = set(
        WebhookDelivery.objects.filter(endpoint=themes_only).values_list("change__key", flat=True)
    )
    assert keys == {"after"}  # not the theme from before it was registered, nor organisations
    assert {"after", "new-org"} <= set(
        WebhookDelivery.objects.filter(endpoint=everything).values_list("change__key", flat=True)
    )
    assert webhooks.queue_deliveries() == 0
    # Even with its cursor moved back, an endpoint gets no second delivery of a change.
    WebhookEndpoint.objects.update(feed_position="")
    webhooks.queue_deliveries()
    assert WebhookDelivery.objects.filter(change__key="after").count() == 2
    assert webhooks.queue_deliveries() == 0


# The API -------------------------------------------------------------------------------


@pytest.fixture
def bob_partner(partner):
    """A partner of Bob NGO (the `partner` fixture), with a second organisation's partner."""
    return partner


@pytest.fixture
def alice_partner(alice_org):
    return factories.user("alice-partner", Role.PARTNER, alice_org)


def test_it_refuses_anonymous_clients_and_donors(api, donor):
    assert api.get("/api/v1/webhooks/").status_code == 401
    api.force_authenticate(donor)
    assert api.get("/api/v1/webhooks/").status_code == 403
    body = {"url": "https://example.org/hook"}
    assert api.post("/api/v1/webhooks/", body).status_code == 403
    assert not WebhookEndpoint.objects.exists()


def test_it_needs_a_key_with_the_write_scope(api, bob_partner):
    bearer(api, bob_partner, write=False)
    assert api.get("/api/v1/webhooks/").status_code == 403
    assert api.post("/api/v1/webhooks/", {"url": "https://example.org/hook"}).status_code == 403
    bearer(api, bob_partner, write=True)
    assert api.get("/api/v1/webhooks/").status_code == 200


def test_it_registers_lists_and_deletes_a_partners_own_endpoints(api, bob_partner, bob_org):
    bearer(api, bob_partner, write=True)
    response = api.post(
        "/api/v1/webhooks/",
        {"url": "https://partner.example.org/hook", "event_types": ["recommendation"]},
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["organisation"] == "bob-ngo"
    assert created["secret"].startswith("whsec_")
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret == created["secret"]
    assert endpoint.user == bob_partner and endpoint.event_types == ["recommendation"]
    listed = api.get("/api/v1/webhooks/").json()["results"]
    assert [item["url"] for item in listed] == ["https://partner.example.org/hook"]
    assert "secret" not in listed[0]  # shown only on creation
    assert "secret" not in api.get(f"/api/v1/webhooks/{endpoint.pk}/").json()
    assert api.delete(f"/api/v1/webhooks/{endpoint.pk}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_it_keeps_partners_to_their_own_organisations_endpoints(
    api, bob_partner, alice_partner, alice_org
):
    alices = endpoint_for(alice_partner, "https://alice.example.org/hook")
    bearer(api, bob_partner, write=True)
    assert api.get("/api/v1/webhooks/").json()["results"] == []
    assert api.get(f"/api/v1/webhooks/{alices.pk}/").status_code == 404
    assert api.delete(f"/api/v1/webhooks/{alices.pk}/").status_code == 404
    response = api.post(
        "/api/v1/webhooks/", {"url": "https://bob.example.org/hook", "organisation": "alice-ngo"}
    )
    assert response.status_code == 403
    assert list(WebhookEndpoint.objects.all()) == [alices]


def test_it_lets_staff_see_every_endpoint(api, editor, bob_partner, alice_partner):
    endpoint_for(alice_partner, "https://alice.example.org/hook")
    endpoint_for(bob_partner, "https://bob.example.org/hook")
    assert api.login(username="erin", password="pw-erin")
    listed = api.get("/api/v1/webhooks/").json()["results"]
    assert {item["organisation"] for item in listed} == {"alice-ngo", "bob-ngo"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "not a url"}, "url"),
        ({"url": "ftp://example.org/hook"}, "url"),
        (
            {"url": "https://example.org/hook", "event_types": ["recommendation", "gossip"]},
            "event_types",
        ),
        ({"url": "https://example.org/hook", "secret": "hunter2"}, "secret"),
        ({"url": "https://example.org/hook", "colour": "red"}, "colour"),
    ],
)
def test_it_names_the_field_at_fault_and_writes_nothing(api, bob_partner, body, field):
    bearer(api, bob_partner, write=True)
    response = api.post("/api/v1/webhooks/", body)
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert {error["attr"] for error in errors} == {field}
    if field == "event_types":
        assert "gossip" in errors[0]["detail"]
    assert not WebhookEndpoint.objects.exists()


def test_it_registers_endpoints_in_the_admin_through_the_service(
    client, administrator, bob_partner, bob_org
):
    client.force_login(administrator)
    response = client.post(
        "/admin/tracker/webhookendpoint/add/",
        {
            "organisation": bob_org.pk,
            "user": bob_partner.pk,
            "url": "https://partner.example.org/hook",
            "event_types": ["theme"],
            "secret": "",
        },
        follow=True,
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["theme"] and endpoint.secret.startswith("whsec_")
    assert endpoint.secret in response.content.decode()  # shown once, after saving
    bad = client.post(
        "/admin/tracker/webhookendpoint/add/",
        {"organisation": bob_org.pk, "user": bob_partner.pk, "url": "nope", "secret": ""},
    )
    assert bad.status_code == 200 and WebhookEndpoint.objects.count() == 1


# A real worker against Redis, a real receiver, and a worker killed mid-delivery ---------


def clear_broker() -> None:
    """Drop task messages an earlier run left, including those a killed worker held."""
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("celery", "unacked", "unacked_index", "unacked_mutex")


def celery(arguments: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603  (our own interpreter and fixed arguments)
        [sys.executable, "-m", "celery", "-A", "tracker", *arguments, "--loglevel=INFO"],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_delivers_through_a_real_worker_at_least_once_when_one_is_killed(api, tmp_path):
    from django.contrib.auth.models import Group, Permission

    from tracker.roles import apply_roles

    apply_roles(Group, Permission)  # an earlier transactional test's flush removed them
    if not settings.CELERY_BROKER_URL:
        if os.environ.get("CI"):
            pytest.fail("CELERY_BROKER_URL must point at Redis in CI")
        pytest.skip("needs a broker (set CELERY_BROKER_URL=redis://…)")
    clear_broker()
    database = connection.settings_dict
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}{password}@{database['HOST']}:"
        f"{database['PORT']}/{database['NAME']}",
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",  # the receiver is on 127.0.0.1
        "WEBHOOK_QUEUE_INTERVAL": "1",
        "WEBHOOK_TIMEOUT_SECONDS": "5",
        "WEBHOOK_RETRY_BASE_SECONDS": "1",
        # The killed worker's message comes back from the broker within seconds;
        # the sweep (minutes) is left out of it, so this tests `acks_late`.
        "CELERY_VISIBILITY_TIMEOUT": "4",
        "CELERY_RESTORE_INTERVAL": "1",
    }
    log = tmp_path / "celery.log"
    editor = factories.user("hook-editor", Role.EDITOR)
    partner = factories.user("hook-partner", Role.PARTNER, factories.organisation("partner-org"))
    server = Receiver(block_first=True)
    endpoint = endpoint_for(partner, server.url, event_types=["organisation"])
    worker_options = ["worker", "--pool=solo", "--without-gossip", "--without-mingle"]
    beat = celery(["beat", "--schedule", str(tmp_path / "beat-schedule")], env, log)
    first_worker = celery([*worker_options, "-n", "first@%h"], env, log)
    second_worker: subprocess.Popen[bytes] | None = None
    try:
        api.force_authenticate(editor)
        # A write through the API: the middleware queues its deliveries on commit.
        response = api.put("/api/v1/organisations/hook-one/", {"name": "One", "kind": "ngo"})
        assert response.status_code == 201, response.content

        assert server.first_arrived.wait(timeout=90), log.read_text()
        [held_id] = server.ids_of(lambda r: True)
        # Killed mid-delivery: the request was sent, no answer was read.
        os.kill(first_worker.pid, signal.SIGKILL)
        first_worker.wait(timeout=10)
        server.release.set()
        second_worker = celery([*worker_options, "-n", "second@%h"], env, log)
        response = api.put("/api/v1/organisations/hook-two/", {"name": "Two", "kind": "ngo"})
        assert response.status_code == 201

        def both_delivered() -> bool:
            # The first request was never answered: its sender was dead by then.
            later = server.requests[1:]
            keys = {r["event"]["data"]["key"] for r in later}
            ids = {r["headers"]["webhook-id"] for r in later}
            return held_id in ids and {"hook-one", "hook-two"} <= keys

        assert wait_for(both_delivered, timeout=120), log.read_text()
    finally:
        server.close()
        for process in (first_worker, second_worker, beat):
            if process is not None:
                stop(process)

    assert all(r["verified"] for r in server.requests)
    # The held event came again, with the same id, so the receiver can drop duplicates.
    assert server.ids_of(lambda r: True).count(held_id) >= 2
    held = WebhookDelivery.objects.get(event_id=held_id)
    assert held.state == "delivered" and held.attempts >= 2
    for key in ("hook-one", "hook-two"):
        delivery = WebhookDelivery.objects.get(
            endpoint=endpoint, change__key=key, change__operation="insert"
        )
        assert delivery.state == "delivered"
        events = [r for r in server.requests if r["headers"]["webhook-id"] == delivery.event_id]
        assert events and events[-1]["event"]["type"] == "organisation.insert"
        assert events[-1]["event"]["data"]["data"]["name"] in {"One", "Two"}


def test_it_answers_an_organisation_with_a_null_character_as_unknown(api, partner):
    bearer(api, partner, write=True)
    response = api.post(
        "/api/v1/webhooks/",
        {"url": "https://example.org/hook", "organisation": "\x00"},
        format="json",
    )
    assert response.status_code == 400
    assert [error["attr"] for error in response.json()["errors"]] == ["organisation"]
    assert not WebhookEndpoint.objects.exists()
