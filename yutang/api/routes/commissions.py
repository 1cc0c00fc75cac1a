"""The commission ledger: accounts, entries, payouts and payout batches (exported as CSV for 商家转账 / 分账)."""

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from yutang.api.deps import ActorDep, IdPath, read_only, unit_of_work
from yutang.commissions import service
from yutang.commissions.schemas import (
    AccountOut,
    BatchDetailOut,
    BatchIn,
    BatchOut,
    EntryOut,
    PayoutIn,
    PayoutOut,
    ReleaseOut,
)
from yutang.kit.errors import Invalid

router = APIRouter(prefix="/commissions", tags=["commissions"])
OptionalId = Annotated[int | None, Query(ge=1, le=2**63 - 1)]


@router.get("/accounts", response_model=list[AccountOut])
def list_accounts(request: Request, actor: ActorDep, kind: Annotated[str | None, Query(max_length=16)] = None):
    """Accounts (distributors, staff, group-buy leaders), largest available balance first."""
    with read_only(request) as session:
        return service.list_accounts(session, actor=actor, kind=kind)


@router.get("/accounts/{account_id}", response_model=AccountOut)
def get_account(request: Request, actor: ActorDep, account_id: IdPath):
    """One account's balances by state."""
    with read_only(request) as session:
        return service.get_account(session, actor=actor, account_id=account_id)


@router.get("/entries", response_model=list[EntryOut])
def list_entries(request: Request, actor: ActorDep, account_id: OptionalId = None, order_id: OptionalId = None):
    """Entries, newest first, for an account or an order."""
    with read_only(request) as session:
        if account_id is not None:
            service.get_account(session, actor=actor, account_id=account_id)
        return service.list_entries(session, actor=actor, account_id=account_id, order_id=order_id)


@router.post("/accounts/{account_id}/payouts", response_model=PayoutOut, status_code=201)
def pay_out(request: Request, actor: ActorDep, account_id: IdPath, data: PayoutIn):
    """Pay an account its available entries (whole, oldest first) up to amount_fen; refused above what is
    available, and when nothing is."""
    with unit_of_work(request) as session:
        payout = service.pay_out(session, actor=actor, account_id=account_id, key=f"api:{data.idempotency_key}",
                                 limit_fen=data.amount_fen, withholding_bp=data.withholding_bp)
        if payout is None:
            raise Invalid("nothing available to pay out", field="amount_fen")
        return payout


@router.post("/release", response_model=ReleaseOut)
def release(request: Request, actor: ActorDep):
    """End the freezes whose after-sales window has closed (also run nightly)."""
    with unit_of_work(request) as session:
        return ReleaseOut(released=service.release_due(session, actor=actor))


@router.get("/batches", response_model=list[BatchOut])
def list_batches(request: Request, actor: ActorDep):
    """Payout batches, newest first."""
    with read_only(request) as session:
        return service.list_batches(session, actor=actor)


@router.post("/batches", response_model=BatchOut, status_code=201)
def create_batch(request: Request, actor: ActorDep, data: BatchIn):
    """Pay every account with at least min_fen available, less the tax withheld."""
    with unit_of_work(request) as session:
        return service.create_batch(session, actor=actor, withholding_bp=data.withholding_bp, min_fen=data.min_fen)


@router.get("/batches/{batch_id}", response_model=BatchDetailOut)
def get_batch(request: Request, actor: ActorDep, batch_id: IdPath):
    """A batch with its payouts."""
    with read_only(request) as session:
        batch, payouts = service.get_batch(session, actor=actor, batch_id=batch_id)
        return BatchDetailOut(**BatchOut.model_validate(batch, from_attributes=True).model_dump(),
                              payouts=[PayoutOut.model_validate(p, from_attributes=True) for p in payouts])


@router.get("/batches/{batch_id}/export.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def export_batch(request: Request, actor: ActorDep, batch_id: IdPath):
    """The batch as CSV for 商家转账 / 分账: one line per payout, in fen."""
    with read_only(request) as session:
        batch, payouts = service.get_batch(session, actor=actor, batch_id=batch_id)
        accounts = {p.account_id: service.get_account(session, actor=actor, account_id=p.account_id)
                    for p in payouts}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["payout_id", "account_kind", "beneficiary_id", "gross_fen", "tax_fen", "net_fen"])
    for p in payouts:
        writer.writerow([p.id, accounts[p.account_id].kind, accounts[p.account_id].beneficiary_id, p.gross_fen,
                         p.tax_fen, p.net_fen])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="payout-batch-{batch.id}.csv"'})
