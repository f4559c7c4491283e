"""Request bodies of customers, time tracking records, billings and officina's extensions.

Node bodies live in ``node_models.py``. As there, every property is optional in the patch
model and ``model_fields_set`` tells what the client sent; create models make required what
the seed marks as required.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, Strict, StrictBool, StringConstraints

from officina.flow import enums
from officina.flow.body import Body
from officina.flow.values import Cents, Color, DateStr, Name, Text191, Text5000, Unix, Uuid

Zip = Annotated[str, Strict(), StringConstraints(max_length=32)]


class LocationIn(Body):
    """A customer location; on PATCH identified by ``id`` or by ``number``."""

    id: Uuid | None = None
    number: Text191 | None = None
    name: Text191 | None = None
    street: Text191 | None = None
    zip: Zip | None = None
    city: Text191 | None = None
    country: Text191 | None = None


class CustomerPatch(Body):
    NULLABLE: ClassVar[frozenset[str]] = frozenset(
        {"defaultBillingType", "journeyBillingMode", "showSignatureFieldInPdfTimeSheets"}
    )
    customerNumber: Text191 | None = None
    defaultBillingType: enums.BillingType | None = None
    journeyBillingMode: enums.JourneyBillingMode | None = None
    fileExportLanguage: enums.Language | None = None
    isLocked: StrictBool | None = None
    isInternal: StrictBool | None = None
    locations: list[LocationIn] | None = Field(
        None, description="Complete list on PATCH: locations not named are deleted."
    )
    name: Name | None = None
    requiresInternalCharge: StrictBool | None = None
    priceCategoryOverrides: dict[str, Any] | None = Field(
        None, description="Price category id → overridden settings, e.g. {hourlyRate: 95}."
    )
    priceSurchargeOverrides: dict[str, Any] | None = Field(
        None, description="Price surcharge id → overridden settings, e.g. {percentage: 50}."
    )
    showSignatureFieldInPdfTimeSheets: StrictBool | None = None


class CustomerCreate(CustomerPatch):
    name: Name


class TimeRecordPatch(Body):
    NULLABLE: ClassVar[frozenset[str]] = frozenset(
        {
            "workTimeStart",
            "workTimeEnd",
            "billingStart",
            "billingEnd",
            "referenceNode",
            "workPackage",
            "priceCategory",
            "priceSurcharge",
        }
    )
    workTimeStart: Unix | None = None
    workTimeEnd: Unix | None = None
    billingStart: Unix | None = None
    billingEnd: Unix | None = None
    message: Text5000 | None = None
    isJourney: StrictBool | None = None
    referenceNode: Uuid | None = None
    workPackage: Uuid | None = None
    priceCategory: Uuid | None = None
    priceSurcharge: Uuid | None = None
    user: Uuid | None = None


class TimeRecordCreate(TimeRecordPatch):
    user: Uuid


class BillingCreate(Body):
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"interval", "intervalFrom", "intervalTo"})
    projectId: Uuid
    workPackageIds: list[Uuid]
    internalComment: Text5000 | None = None
    publicNote: Text5000 | None = None
    interval: enums.BillingInterval | None = None
    intervalFrom: DateStr | None = None
    intervalTo: DateStr | None = None


class BillingPatch(Body):
    internalComment: Text5000 | None = None
    publicNote: Text5000 | None = None
    erpStatus: enums.ErpStatus | None = None
    erpReference: Text191 | None = None
    erpMessage: Text5000 | None = None


# -- officina extensions ------------------------------------------------------------------------


class LabelPatch(Body):
    name: Name | None = None
    color: Color | None = None


class LabelCreate(LabelPatch):
    name: Name


class PriceCategoryPatch(Body):
    name: Name | None = None
    hourlyRate: Cents | None = None
    isDisabled: StrictBool | None = None


class PriceCategoryCreate(PriceCategoryPatch):
    name: Name
    hourlyRate: Cents


class PriceSurchargePatch(Body):
    name: Name | None = None
    percentage: Cents | None = None
    isDisabled: StrictBool | None = None


class PriceSurchargeCreate(PriceSurchargePatch):
    name: Name
    percentage: Cents


class ProjectRolePatch(Body):
    name: Name | None = None
    isProjectManager: StrictBool | None = None


class ProjectRoleCreate(ProjectRolePatch):
    name: Name


class RoleAssignment(BaseModel):
    """One role given to a user (``userId``) or to a user group (``groupId``) on a node."""

    model_config = ConfigDict(extra="ignore")

    roleId: Uuid
    userId: Uuid | None = None
    groupId: Uuid | None = None


class PlanningDatePatch(Body):
    nodeId: Uuid | None = None
    name: Text191 | None = None
    plannedStart: DateStr | None = None
    plannedEnd: DateStr | None = None


class PlanningDateCreate(PlanningDatePatch):
    nodeId: Uuid
    plannedStart: DateStr
    plannedEnd: DateStr
