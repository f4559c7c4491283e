"""Request bodies of the six node types: one patch model each, create models on top.

Patch models list every writable property as optional; create models make the properties
the seed marks as required mandatory. Properties that are only shown in responses are not
declared, so a client that sends a GET body back has them ignored.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, Field, StrictBool

from officina.flow import enums
from officina.flow.body import Body, SortOrder
from officina.flow.values import Cents, Color, JsonObject, Name, Text191, Text5000, Uuid, UuidList

_RESPONSIBLE_DOC = "Own responsible users/groups; see the inheritance rules of the face's docs."


class NodeBody(Body):
    """Properties every node type has."""

    parentNodeId: Uuid | None = Field(None, description="Create only; nodes never move.")
    color: Color | None = None
    labels: UuidList | None = None
    keyValueStore: JsonObject | None = None
    referenceNumber: Text191 | None = None
    name: Name | None = None


class Responsible(BaseModel):
    """Mixin: the responsible users/groups triple of projects, groups, tasks and packages."""

    definesOwnResponsible: StrictBool | None = Field(None, description=_RESPONSIBLE_DOC)
    responsibleGroups: UuidList | None = None
    responsibleUsers: UuidList | None = None


class Sortable(BaseModel):
    sortedSiblingIds: list[Uuid] | None = Field(
        None, description="All sibling ids in their new order, including this node's id."
    )
    sortOrder: SortOrder | None = None


class ProjectFolderPatch(NodeBody):
    pass


class ProjectFolderCreate(ProjectFolderPatch):
    NULLABLE: ClassVar[frozenset[str]] = frozenset()
    name: Name


class ProjectPatch(NodeBody, Responsible):
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"maxEffort", "maxPrice", "timeControl"})
    description: Text5000 | None = None
    flowCustomer: Uuid | None = None
    isLocked: StrictBool | None = None
    isClosed: StrictBool | None = None
    isTemplate: StrictBool | None = None
    maxEffort: Cents | None = None
    enforceMaxEffort: StrictBool | None = None
    showMaxEffortInDays: StrictBool | None = None
    maxPrice: Cents | None = None
    status: enums.ProjectStatus | None = Field(None, description="Deprecated.")
    timeControl: JsonObject | None = None


class ProjectCreate(ProjectPatch):
    name: Name
    flowCustomer: Uuid


class GroupPatch(NodeBody, Responsible, Sortable):
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"maxEffort", "maxPrice", "timeControl"})
    description: Text5000 | None = None
    enforceMaxEffort: StrictBool | None = None
    groupType: enums.GroupType | None = None
    isLocked: StrictBool | None = None
    isClosed: StrictBool | None = None
    maxEffort: Cents | None = None
    maxPrice: Cents | None = None
    showMaxEffortInDays: StrictBool | None = None
    timeControl: JsonObject | None = None


class GroupCreate(GroupPatch):
    name: Name
    parentNodeId: Uuid


class WorkPackagePatch(NodeBody, Responsible, Sortable):
    NULLABLE: ClassVar[frozenset[str]] = frozenset(
        {"effortFrom", "effortTo", "fixedPrice", "maxEffort", "priceCategory", "timeControl"}
    )
    description: Text5000 | None = None
    billingType: enums.BillingType | None = None
    effortFrom: Cents | None = None
    effortTo: Cents | None = None
    fixedPrice: Cents | None = None
    freeOfChargeReason: enums.FreeOfChargeReason | None = None
    isCompleted: StrictBool | None = None
    isApprovedForBilling: StrictBool | None = None
    isLocked: StrictBool | None = None
    isClosed: StrictBool | None = None
    isOffer: StrictBool | None = None
    maxEffort: Cents | None = None
    priceCategory: Uuid | None = None
    roleMaxEfforts: list[Any] | None = Field(None, description="Deprecated; ignored.")
    status: enums.WorkPackageStatus | None = Field(None, description="Deprecated.")
    timeTrackingReferenceNodeType: enums.ReferenceNodeType | None = None
    usePriceCategoryPerTimeTracking: StrictBool | None = None
    timeControl: JsonObject | None = None


class WorkPackageCreate(WorkPackagePatch):
    name: Name
    parentNodeId: Uuid


class SubWorkPackagePatch(NodeBody, Responsible, Sortable):
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"maxEffort", "defaultPriceCategory"})
    description: Text5000 | None = None
    isCompleted: StrictBool | None = None
    isLocked: StrictBool | None = None
    maxEffort: Cents | None = None
    defaultPriceCategory: Uuid | None = None


class SubWorkPackageCreate(SubWorkPackagePatch):
    name: Name
    parentNodeId: Uuid


class TaskPatch(NodeBody, Responsible, Sortable):
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"plannedTime"})
    assignedUnits: list[dict[str, Any]] | None = Field(None, description="Deprecated.")
    description: Text5000 | None = None
    hasExternalAssignee: StrictBool | None = Field(None, description="Deprecated.")
    plannedTime: Cents | None = None
    status: enums.TaskStatus | None = None


class TaskCreate(TaskPatch):
    name: Name
    parentNodeId: Uuid


CREATE_MODELS: dict[str, type[NodeBody]] = {
    enums.FOLDER: ProjectFolderCreate,
    enums.PROJECT: ProjectCreate,
    enums.GROUP: GroupCreate,
    enums.WORK_PACKAGE: WorkPackageCreate,
    enums.SUB_WORK_PACKAGE: SubWorkPackageCreate,
    enums.TASK: TaskCreate,
}
PATCH_MODELS: dict[str, type[NodeBody]] = {
    enums.FOLDER: ProjectFolderPatch,
    enums.PROJECT: ProjectPatch,
    enums.GROUP: GroupPatch,
    enums.WORK_PACKAGE: WorkPackagePatch,
    enums.SUB_WORK_PACKAGE: SubWorkPackagePatch,
    enums.TASK: TaskPatch,
}
