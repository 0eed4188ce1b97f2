"""HTTP routes of accounts: the account summary (what `yolo login` calls) and API keys."""

from __future__ import annotations

from fastapi import APIRouter, Query

from yolohost.accounts import repository as repo
from yolohost.accounts import schemas, service
from yolohost.accounts.deps import AccountUser, CurrentUser
from yolohost.db.deps import DbSession
from yolohost.db.tables import ApiKey
from yolohost.kit import clock

router = APIRouter(prefix="/api", tags=["Account"])

#: A self-hosted platform has no plans or credit: every account has everything.
PLAN = "enterprise"
REGION = "us"


@router.get("/account/summary", response_model=schemas.AccountSummaryResponse)
def account_summary(principal: CurrentUser, session: DbSession):
    user = repo.user_by_id(session, principal.user_id)
    teams = [
        schemas.TeamSummary(userId=ws.id, username=ws.username, fullName=ws.name, plan=PLAN, region=REGION, role=role)
        for ws, role in repo.team_memberships(session, user.id)
    ]
    return schemas.AccountSummaryResponse(
        username=user.username,
        name=user.name,
        accountType="personal",
        plan=PLAN,
        creditsCents=0,
        counts=schemas.AccountCounts(**service.resource_counts(session, principal)),
        teams=teams,
    )


def _key_item(key: ApiKey) -> schemas.ApiKeyItem:
    return schemas.ApiKeyItem(keyId=key.id, name=key.name, keyPrefix=key.key_prefix, createdAt=clock.iso(key.created_at))


@router.get("/api-keys", response_model=schemas.ListApiKeysResponse)
def list_api_keys(principal: AccountUser, session: DbSession):
    return schemas.ListApiKeysResponse(keys=[_key_item(k) for k in repo.active_keys(session, principal.user_id)])


@router.post("/api-keys", status_code=201, response_model=schemas.CreateApiKeyResponse)
def create_api_key(body: schemas.CreateApiKeyRequest, principal: AccountUser, session: DbSession):
    user = repo.user_by_id(session, principal.user_id)
    key, plaintext = service.create_key(session, user, body.name, body.scopes, creator=principal)
    return schemas.CreateApiKeyResponse(
        keyId=key.id,
        name=key.name,
        key=plaintext,
        keyPrefix=key.key_prefix,
        scopes=key.scopes,
        createdAt=clock.iso(key.created_at),
    )


@router.delete("/api-keys", response_model=schemas.DeleteApiKeyResponse)
def revoke_api_key(principal: AccountUser, session: DbSession, keyId: str = Query(min_length=1)):
    key = service.revoke_key(session, keyId, user_id=principal.user_id)
    return schemas.DeleteApiKeyResponse(success=True, keyId=key.id)
