"""Usage metering: predict calls (every API generation) and job compute are counted per workspace, written in
batches by additive upserts that several processes can share, and reported in the contract's billing shapes;
nobody is charged and every payment route says there is no payment provider."""

import threading
from datetime import timedelta

import pytest

from tests.conftest import add_model
from tests.contract import validate
from tests.fixtures.models import ASSETS
from tests.projects.helpers import join
from yolohost.app import create_app
from yolohost.db.engine import transaction
from yolohost.db.tables import UsageRecord
from yolohost.kit import clock
from yolohost.usage.meter import UsageMeter
from yolohost.usage.service import record_compute

BUS = ASSETS / "bus.jpg"
TEAM = "acme-team"


def _predict(client, account, path):
    with open(BUS, "rb") as fh:
        r = client.post(path, files={"file": fh}, headers=account.bearer)
    assert r.status_code == 200, r.text
    return r


def _usage(client, account, query=""):
    r = client.get(f"/api/billing/usage{query}", headers=account.bearer)
    assert r.status_code == 200, r.text
    return r.json()


def _transactions(client, account, query=""):
    r = client.get(f"/api/billing/transactions{query}", headers=account.bearer)
    assert r.status_code == 200, r.text
    validate("BillingTransactionsResponse", r.json())
    return r.json()["transactions"]


def _records(app) -> list[UsageRecord]:
    with app.state.sessions() as session:
        return session.query(UsageRecord).order_by(UsageRecord.kind, UsageRecord.subject_id).all()


def _workspace_id(app, username: str) -> str:
    from yolohost.accounts import repository

    with app.state.sessions() as session:
        return repository.workspace_by_username(session, username).id


def test_predict_calls_are_counted_per_workspace_after_a_flush(client, app, alice, make_account, detector_pt):
    bob = make_account("bobby")
    mine = add_model(client, alice, detector_pt, project="demo", name="Det")
    theirs = add_model(client, bob, detector_pt, project="other", name="Theirs")
    _predict(client, alice, f"/api/models/{mine['id']}/predict")
    _predict(client, alice, "/api/models/alice/demo/det/predict")
    _predict(client, bob, f"/api/models/{theirs['id']}/predict")

    assert _records(app) == []  # not written by the requests themselves ...
    assert app.state.usage.flush(app.state.sessions) == 3  # ... but by the batch flush
    assert app.state.usage.flush(app.state.sessions) == 0

    body = _usage(client, alice)
    assert body["owner"] == "alice" and body["totals"]["predict"]["count"] == 2
    assert body["totals"]["predict"]["computeSeconds"] > 0
    assert body["totals"]["training"] == body["totals"]["export"] == {"count": 0, "computeSeconds": 0.0}
    (entry,) = body["entries"]
    assert entry["kind"] == "predict" and entry["modelId"] == mine["id"] and entry["model"] == "alice/demo/det"
    assert entry["count"] == 2 and entry["day"] == clock.now().date().isoformat()

    (tx,) = _transactions(client, alice)
    assert tx["type"] == "adjustment" and tx["amountCents"] == 0 and tx["balanceAfter"] == 0
    assert tx["modelId"] == mine["id"] and tx["period"] == entry["day"] and tx["id"] == entry["id"]
    assert tx["model"] == {"name": "Det", "slug": "det", "projectSlug": "demo", "username": "alice"}

    theirs_usage = _usage(client, bob)
    assert theirs_usage["totals"]["predict"]["count"] == 1
    assert [e["modelId"] for e in theirs_usage["entries"]] == [theirs["id"]]


def test_hub_routes_are_metered_like_platform_predicts(client, app, alice, detector_pt):
    created = add_model(client, alice, detector_pt)
    with open(BUS, "rb") as fh:
        r = client.post("/", headers={"x-api-key": alice.key}, files={"file": fh}, data={"model": created["id"]})
    assert r.status_code == 200, r.text
    with open(BUS, "rb") as fh:
        r = client.post(f"/v1/predict/{created['id']}", headers={"x-api-key": alice.key}, files={"image": fh})
    assert r.status_code == 200 and r.json()["success"] is True
    # a refused call is not counted
    r = client.post(f"/v1/predict/{created['id']}", headers={"x-api-key": alice.key}, files={"image": ("x.jpg", b"no")})
    assert r.status_code == 400

    assert app.state.usage.flush(app.state.sessions) == 2
    (record,) = _records(app)
    assert (record.kind, record.subject_id, record.quantity) == ("predict", created["id"], 2)
    assert record.seconds > 0


def test_a_team_workspace_is_chosen_with_owner(client, app, alice, make_account, detector_pt):
    member, outsider = make_account("member1"), make_account("outsider")
    r = client.post("/api/teams/create", json={"username": TEAM, "fullName": "Acme"}, headers=alice.bearer)
    assert r.status_code == 201, r.text
    join(app, TEAM, member, "viewer")
    with open(detector_pt, "rb") as fh:
        r = client.post("/api/models", files={"file": ("det.pt", fh)}, data={"projectId": "shared", "owner": TEAM},
                        headers=alice.bearer)
    assert r.status_code == 201, r.text
    model = r.json()
    _predict(client, member, f"/api/models/{TEAM}/shared/det/predict")  # charged to the model's workspace
    app.state.usage.flush(app.state.sessions)

    for account in (alice, member):
        body = _usage(client, account, f"?owner={TEAM}")
        assert body["owner"] == TEAM and [e["modelId"] for e in body["entries"]] == [model["id"]]
        (tx,) = _transactions(client, account, f"?owner={TEAM}")
        assert tx["model"]["username"] == TEAM
    assert _usage(client, member)["entries"] == [] and _transactions(client, alice) == []

    for query in (f"?owner={TEAM}", "?owner=alice", "?owner=nobody-here"):
        for path in ("/api/billing/usage-summary", "/api/billing/transactions", "/api/billing/usage"):
            r = client.get(path + query, headers=outsider.bearer)
            assert r.status_code == 403, (path, query, r.text)
            assert "billing" in r.json()["error"]


def test_record_compute_is_reported_in_transactions_and_usage(client, app, alice, detector_pt):
    model = add_model(client, alice, detector_pt, project="demo", name="Det")
    workspace_id = _workspace_id(app, "alice")
    with transaction(app.state.sessions) as session:
        record_compute(session, workspace_id, "training", 12.5, subject_id=model["id"])
    with transaction(app.state.sessions) as session:
        record_compute(session, workspace_id, "training", 7.5, subject_id=model["id"])
        record_compute(session, workspace_id, "export", 3.25)
    with pytest.raises(ValueError, match="kind must be one of"):
        with transaction(app.state.sessions) as session:
            record_compute(session, workspace_id, "predict", 1.0)

    totals = _usage(client, alice)["totals"]
    assert totals["training"] == {"count": 2, "computeSeconds": 20.0}
    assert totals["export"] == {"count": 1, "computeSeconds": 3.25}
    assert totals["predict"] == {"count": 0, "computeSeconds": 0.0}

    by_type = {tx["type"]: tx for tx in _transactions(client, alice)}
    assert set(by_type) == {"training", "adjustment"}
    assert by_type["training"]["modelId"] == model["id"] and by_type["training"]["model"]["slug"] == "det"
    assert "modelId" not in by_type["adjustment"] and "model" not in by_type["adjustment"]
    assert all(tx["amountCents"] == 0 and tx["balanceAfter"] == 0 for tx in by_type.values())

    summary = client.get("/api/billing/usage-summary", headers=alice.bearer)
    assert summary.status_code == 200
    (storage,) = summary.json()["metrics"]
    assert storage["metricId"] == "storage_bytes" and storage["used"] == detector_pt.stat().st_size


def test_two_meters_flushing_into_the_same_rows_add_up(app, alice):
    workspace_id = _workspace_id(app, "alice")
    first, second = UsageMeter(), UsageMeter()
    for _ in range(3):
        first.predicted(workspace_id, "mdl_x", 0.25)
    second.predicted(workspace_id, "mdl_x", 0.5)
    second.predicted(workspace_id, "mdl_y", 1.0)
    assert first.flush(app.state.sessions) == 3
    assert second.flush(app.state.sessions) == 2
    assert [(r.subject_id, r.quantity, r.seconds) for r in _records(app)] == [("mdl_x", 4, 1.25), ("mdl_y", 1, 1.0)]

    # Many processes' meters flushing at once: every call is counted exactly once.
    meters = [UsageMeter() for _ in range(4)]

    def work(meter):
        for _ in range(20):
            meter.predicted(workspace_id, "mdl_x", 0.5)
            meter.predicted(workspace_id, "mdl_z", 0.5)
            meter.flush(app.state.sessions)

    threads = [threading.Thread(target=work, args=(m,)) for m in meters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [(r.subject_id, r.quantity, r.seconds) for r in _records(app)] == [
        ("mdl_x", 84, 41.25), ("mdl_y", 1, 1.0), ("mdl_z", 80, 40.0)]


def test_a_failed_flush_keeps_the_calls_of_live_workspaces(app, alice):
    workspace_id = _workspace_id(app, "alice")
    meter = UsageMeter()
    meter.predicted(workspace_id, "mdl_x", 0.5)
    meter.predicted("ws_gone", "mdl_x", 0.5)  # a workspace deleted before the flush
    assert meter.flush(app.state.sessions) == 0
    assert _records(app) == []
    assert meter.flush(app.state.sessions) == 1
    assert [(r.workspace_id, r.quantity) for r in _records(app)] == [(workspace_id, 1)]


def test_calls_pending_at_shutdown_are_written(settings, detector_pt):
    from tests.conftest import ContractClient
    from yolohost.accounts import service

    app = create_app(settings)
    with ContractClient(app) as client:
        with transaction(app.state.sessions) as session:
            user = service.create_user(session, "alice")
            _, key = service.create_key(session, user, "test")
        with open(detector_pt, "rb") as fh:
            r = client.post("/api/models", files={"file": ("det.pt", fh)}, data={"projectId": "demo"},
                            headers={"Authorization": f"Bearer {key}"})
        model_id = r.json()["id"]
        with open(BUS, "rb") as fh:
            r = client.post(f"/api/models/{model_id}/predict", files={"file": fh}, headers={"x-api-key": key})
        assert r.status_code == 200
        assert _records(app) == []
    try:
        assert [(r.subject_id, r.quantity) for r in _records(app)] == [(model_id, 1)]
    finally:
        app.state.sessions.kw["bind"].dispose()


def test_transactions_window(client, app, alice, monkeypatch):
    workspace_id = _workspace_id(app, "alice")
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() - timedelta(days=3))
    with transaction(app.state.sessions) as session:
        record_compute(session, workspace_id, "training", 60.0, subject_id="mdl_old")
    monkeypatch.setattr(clock, "now", real_now)
    with transaction(app.state.sessions) as session:
        record_compute(session, workspace_id, "export", 5.0, subject_id="mdl_new")

    listed = _transactions(client, alice)
    assert [tx["modelId"] for tx in listed] == ["mdl_new", "mdl_old"]  # most recent first
    assert listed[1]["model"] is None  # no such model (any more)
    assert [tx["period"] for tx in listed] == [(real_now() - timedelta(days=d)).date().isoformat() for d in (0, 3)]

    since = clock.iso(real_now() - timedelta(days=1))
    assert [tx["modelId"] for tx in _transactions(client, alice, f"?from={since}")] == ["mdl_new"]
    assert [tx["modelId"] for tx in _transactions(client, alice, f"?to={since}")] == ["mdl_old"]
    assert _usage(client, alice, f"?to={since}")["totals"]["training"] == {"count": 1, "computeSeconds": 60.0}

    r = client.get(f"/api/billing/transactions?from={since}&to={clock.iso(real_now() - timedelta(days=2))}",
                   headers=alice.bearer)
    assert r.status_code == 400 and "Invalid date range" in r.json()["error"]
    r = client.get("/api/billing/transactions?from=yesterday", headers=alice.bearer)
    assert r.status_code == 400 and r.json()["error"].startswith("from:")


def test_usage_summary_and_balance_charge_nothing(client, app, alice):
    r = client.get("/api/billing/usage-summary", headers=alice.bearer)
    assert r.status_code == 200, r.text
    validate("BillingUsageSummaryResponse", r.json())
    body = r.json()
    assert body["plan"] == {"planId": "enterprise", "name": "Self-hosted", "status": "active", "cancelAtPeriodEnd": False}
    assert body["metrics"] == [{"metricId": "storage_bytes", "kind": "GAUGE", "period": "NONE", "limit": 0, "used": 0,
                                "remaining": 0, "overageAllowed": True}]
    assert body["creditsCents"] == 0 and body["trainingCredit"] == {"monthlyGrant": 0, "balanceAvailable": 0}

    r = client.get("/api/billing/balance", headers=alice.bearer)
    assert r.status_code == 200 and r.json() == {"creditsCents": 0, "plan": "enterprise"}


def test_a_storage_quota_is_the_metric_limit(app, client, alice):
    app.state.settings.storage_quota_mb = 2
    r = client.get("/api/billing/usage-summary", headers=alice.bearer)
    (metric,) = r.json()["metrics"]
    assert (metric["limit"], metric["remaining"], metric["overageAllowed"]) == (2 << 20, 2 << 20, False)


PAYMENT_ROUTES = [
    ("POST", "/api/billing/checkout-session", {"amount": 25}),
    ("POST", "/api/billing/subscription-checkout", {"planId": "pro"}),
    ("DELETE", "/api/billing/subscription-checkout", None),
    ("POST", "/api/billing/portal-session", None),
    ("GET", "/api/billing/payments", None),
    ("GET", "/api/billing/auto-topup", None),
    ("PATCH", "/api/billing/auto-topup", {"enabled": True, "thresholdCents": 500, "amountCents": 2500}),
    ("GET", "/api/billing/payment-methods", None),
    ("PATCH", "/api/billing/payment-methods", {"name": "Jane Doe"}),
    ("POST", "/api/billing/payment-methods/setup", None),
    ("POST", "/api/billing/payment-methods/default", {"paymentMethodId": "pm_123"}),
    ("DELETE", "/api/billing/payment-methods/pm_123", None),
]


@pytest.mark.parametrize(("method", "path", "body"), PAYMENT_ROUTES)
def test_payment_routes_say_there_is_no_payment_provider(client, alice, method, path, body):
    r = client.request(method, path, json=body, headers=alice.bearer)
    assert r.status_code == 501
    error = r.json()["error"]
    assert r.json() == {"error": error} and "No payment provider is configured" in error
    assert client.request(method, path, json=body).status_code == 401


@pytest.mark.parametrize("path", ["/api/billing/usage-summary", "/api/billing/transactions", "/api/billing/usage",
                                  "/api/billing/balance"])
def test_reading_usage_needs_an_account_key(client, make_account, path):
    r = client.get(path)
    assert r.status_code == 401
    validate("ErrorResponse", r.json())
    predict_only = make_account("predictor", scopes=["predict"])
    r = client.get(path, headers=predict_only.bearer)
    assert r.status_code == 403 and "'account' scope" in r.json()["error"]
