"""The library of materials and scripts (素材库 / 话术库): folders, materials, use records and the use report."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from yutang.api.deps import ActorDep, IdPath, read_only, unit_of_work
from yutang.groups import service
from yutang.groups.schemas import (
    FolderIn,
    FolderOut,
    MaterialIn,
    MaterialKind,
    MaterialOut,
    MaterialPatch,
    UseIn,
    UseOut,
    UseReportOut,
)
from yutang.kit.clock import utcnow
from yutang.kit.fields import Id

router = APIRouter(prefix="/library", tags=["library"])


@router.get("/folders", response_model=list[FolderOut])
def list_folders(request: Request, actor: ActorDep):
    """Folders with their count of live materials."""
    with read_only(request) as session:
        return [FolderOut.model_validate(f).model_copy(update={"materials": n})
                for f, n in service.list_folders(session, actor=actor)]


@router.post("/folders", response_model=FolderOut, status_code=201)
def create_folder(request: Request, actor: ActorDep, data: FolderIn):
    """A new folder (names unique in the workspace)."""
    with unit_of_work(request) as session:
        return service.create_folder(session, actor=actor, data=data)


@router.delete("/folders/{folder_id}", status_code=204)
def delete_folder(request: Request, actor: ActorDep, folder_id: IdPath):
    """Remove an empty folder."""
    with unit_of_work(request) as session:
        service.delete_folder(session, actor=actor, folder_id=folder_id)
    return Response(status_code=204)


@router.get("/materials", response_model=list[MaterialOut])
def list_materials(request: Request, actor: ActorDep, folder_id: Annotated[Id | None, Query()] = None,
                   kind: MaterialKind | None = None, tag: Annotated[str | None, Query(max_length=30)] = None,
                   q: Annotated[str | None, Query(max_length=100)] = None, archived: bool = False):
    """Materials by folder, kind, tag or words; live ones unless archived=true."""
    with read_only(request) as session:
        return service.list_materials(session, actor=actor, folder_id=folder_id, kind=kind, tag=tag, search=q,
                                      archived=archived)


@router.post("/materials", response_model=MaterialOut, status_code=201)
def create_material(request: Request, actor: ActorDep, data: MaterialIn):
    """A new material or script."""
    with unit_of_work(request) as session:
        return service.create_material(session, actor=actor, data=data)


@router.get("/materials/{material_id}", response_model=MaterialOut)
def get_material(request: Request, actor: ActorDep, material_id: IdPath):
    """One material."""
    with read_only(request) as session:
        return service.get_material(session, actor=actor, material_id=material_id)


@router.patch("/materials/{material_id}", response_model=MaterialOut)
def update_material(request: Request, actor: ActorDep, material_id: IdPath, data: MaterialPatch):
    """Change a material's folder, title, content or tags."""
    with unit_of_work(request) as session:
        return service.update_material(session, actor=actor, material_id=material_id, data=data)


@router.post("/materials/{material_id}/archive", response_model=MaterialOut)
def archive_material(request: Request, actor: ActorDep, material_id: IdPath):
    """Take a material out of the pickers (its uses stay)."""
    with unit_of_work(request) as session:
        return service.archive_material(session, actor=actor, material_id=material_id)


@router.post("/materials/{material_id}/uses", response_model=UseOut, status_code=201)
def record_uses(request: Request, actor: ActorDep, material_id: IdPath, data: UseIn):
    """Record that a staff member used a material with customers or groups (a client that sends by itself)."""
    with unit_of_work(request) as session:
        return UseOut(uses=service.record_uses(session, actor=actor, material_id=material_id, data=data))


@router.get("/report", response_model=list[UseReportOut])
def use_report(request: Request, actor: ActorDep, days: Annotated[int, Query(ge=1, le=366)] = 30,
               material_id: Annotated[Id | None, Query()] = None, staff_id: Annotated[Id | None, Query()] = None):
    """Per material and staff member over the last `days`: uses, customers reached, who replied within 24 hours,
    who paid an order within 7 days."""
    with read_only(request) as session:
        now = utcnow()
        return service.use_report(session, actor=actor, since=now - timedelta(days=days), until=now,
                                  material_id=material_id, staff_id=staff_id)



