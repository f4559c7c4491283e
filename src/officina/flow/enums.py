"""Every enumerated value set of the Flow dialect, kept in one place.

Several sets are only partly known from the vendor's documentation (one sample value each
for journey billing modes, billing intervals and ERP states); officina's completions live
here so they can be corrected in one spot once the vendor's lists are known.
"""

from __future__ import annotations

from typing import Literal, get_args

NodeType = Literal["projectFolder", "project", "group", "workPackage", "subWorkPackage", "task"]
BillingType = Literal[
    "contingent", "effort", "effortCap", "effortEst", "effortFromTo", "freeOfCharge", "fixedPrice"
]
FreeOfChargeReason = Literal["service", "aquisition", "warranty"]
WorkPackageStatus = Literal["offer", "notYetOpen", "open", "locked", "closed"]
ReferenceNodeType = Literal["any", "subWorkPackages", "workPackages"]
ProjectStatus = Literal["open", "locked", "template", "archived"]
GroupType = Literal["group", "sprint", "backlog"]
TaskStatus = Literal["open", "complete"]
Language = Literal["de", "en", "es", "fr", "it", "pt"]
JourneyBillingMode = Literal["flatRate", "effort", "none"]
BillingInterval = Literal["custom", "week", "month", "quarter", "year"]
ErpStatus = Literal["none", "pending", "transferred", "failed"]
RoleType = Literal["projectManager", "executing", "supporting"]
UnitType = Literal["user", "group"]

# Billing types whose time is billed by the hour (the seed: "all effort* types").
HOURLY_BILLABLE = frozenset({"effort", "effortCap", "effortEst", "effortFromTo"})
BILLING_TYPES: tuple[str, ...] = get_args(BillingType)
JOURNEY_BILLING_MODES: tuple[str, ...] = get_args(JourneyBillingMode)
LANGUAGES: tuple[str, ...] = get_args(Language)
ERP_STATES: tuple[str, ...] = get_args(ErpStatus)
WORK_PACKAGE_STATES: tuple[str, ...] = get_args(WorkPackageStatus)
TASK_STATES: tuple[str, ...] = get_args(TaskStatus)

# Node types, in the order of the tree from the top.
FOLDER, PROJECT, GROUP, WORK_PACKAGE, SUB_WORK_PACKAGE, TASK = get_args(NodeType)
