"""SQL tables of the projects face, added to core's shared MetaData.

All six node types live in one wide table so that a list or a search over any type is one
statement; the closure table ``flow_node_ancestry`` answers every "above/below" question
(ancestors, descendants, locks, inherited responsibles, effort sums) without recursive SQL.
Nodes never move, so the closure rows are written once and only go away with their nodes.

Customers are the records face's ``accounts`` rows; only what Flow knows beyond name, number
and lock lives in ``flow_customers``. Money and hours are integer hundredths (``*_c``) so
both stores compute exactly. Every table name starts with ``flow_``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)

from officina.core.schema import metadata

ID = 32  # length of every Flow id: 32 upper-case hex digits
FALSE = text("false")
TRUE = text("true")
EMPTY = text("''")


def _id(name: str, *args: Any, **kw: Any) -> Column[str]:
    return Column(name, String(ID), *args, **kw)


def _flag(name: str, default: bool = False) -> Column[bool]:
    return Column(name, Boolean, nullable=False, server_default=TRUE if default else FALSE)


def _cents(name: str) -> Column[int]:
    return Column(name, BigInteger, nullable=True)


nodes = Table(
    "flow_nodes",
    metadata,
    _id("id", primary_key=True),
    Column("node_type", String(16), nullable=False),
    _id("parent_id", ForeignKey("flow_nodes.id", ondelete="CASCADE"), nullable=True),
    # The ancestor project (the node itself for projects); fixed because nodes never move.
    _id("project_id", nullable=True),
    # "root" on the root project folder only; the unique index allows just one.
    Column("root_key", String(8), nullable=True, unique=True),
    Column("name", Text, nullable=False),
    Column("name_cf", Text, nullable=False),
    Column("reference_number", Text, nullable=False, server_default=EMPTY),
    Column("reference_number_cf", Text, nullable=False, server_default=EMPTY),
    Column("color", String(6), nullable=False, server_default=EMPTY),
    Column("description", Text, nullable=False, server_default=EMPTY),
    Column("sort_order", Integer, nullable=True),
    _flag("is_archived"),
    _flag("is_locked"),
    _flag("is_closed"),
    _flag("is_template"),
    _flag("is_completed"),
    _flag("is_approved_for_billing"),
    _flag("is_offer"),
    _flag("enforce_max_effort", True),
    _flag("show_max_effort_in_days", True),
    _cents("max_effort_c"),
    _cents("max_price_c"),
    _cents("effort_from_c"),
    _cents("effort_to_c"),
    _cents("fixed_price_c"),
    _cents("planned_time_c"),
    # Projects only: the customer (a records-face account).
    Column(
        "customer_account",
        Integer,
        ForeignKey("accounts.ID", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("group_type", String(16), nullable=True),
    Column("billing_type", String(16), nullable=True),
    Column("free_of_charge_reason", String(16), nullable=True),
    _id("price_category_id", nullable=True),
    _id("default_price_category_id", nullable=True),
    Column("time_tracking_reference_node_type", String(16), nullable=True),
    _flag("use_price_category_per_time_tracking"),
    Column("task_status", String(16), nullable=True),
    _flag("defines_own_responsible"),
    Column("key_value_store", JSON, nullable=False),
    Column("time_control", JSON, nullable=True),
    _id("completed_by", nullable=True),
    Column("completed_on", BigInteger, nullable=True),
    Column("created_on", BigInteger, nullable=False),
    Column("last_changed", BigInteger, nullable=False),
    Column("last_changed_on", BigInteger, nullable=False),
    _id("last_changed_by", nullable=True),
    Index("ix_flow_nodes_parent_id", "parent_id"),
    Index("ix_flow_nodes_project_id", "project_id"),
    Index("ix_flow_nodes_node_type_name_cf", "node_type", "name_cf"),
    Index("ix_flow_nodes_customer_account", "customer_account"),
)

ancestry = Table(
    "flow_node_ancestry",
    metadata,
    _id("ancestor_id", ForeignKey("flow_nodes.id", ondelete="CASCADE"), nullable=False),
    _id("descendant_id", ForeignKey("flow_nodes.id", ondelete="CASCADE"), nullable=False),
    Column("depth", Integer, nullable=False),
    PrimaryKeyConstraint("ancestor_id", "descendant_id"),
    Index("ix_flow_node_ancestry_descendant_id_depth", "descendant_id", "depth"),
)

labels = Table(
    "flow_labels",
    metadata,
    _id("id", primary_key=True),
    Column("name", Text, nullable=False),
    Column("color", String(6), nullable=False, server_default=EMPTY),
)

node_labels = Table(
    "flow_node_labels",
    metadata,
    _id("node_id", ForeignKey("flow_nodes.id", ondelete="CASCADE"), nullable=False),
    _id("label_id", ForeignKey("flow_labels.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("node_id", "label_id"),
    Index("ix_flow_node_labels_label_id", "label_id"),
)

# Own responsible users ('user') and user groups ('group') of nodes that define them.
node_responsibles = Table(
    "flow_node_responsibles",
    metadata,
    _id("node_id", ForeignKey("flow_nodes.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(8), nullable=False),
    _id("principal_uuid", nullable=False),
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("node_id", "kind", "principal_uuid"),
)

planning_dates = Table(
    "flow_planning_dates",
    metadata,
    _id("id", primary_key=True),
    _id("node_id", ForeignKey("flow_nodes.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False, server_default=EMPTY),
    Column("planned_start", String(10), nullable=False),
    Column("planned_end", String(10), nullable=False),
    Index("ix_flow_planning_dates_node_id", "node_id"),
)

customers = Table(
    "flow_customers",
    metadata,
    Column(
        "account_id",
        Integer,
        ForeignKey("accounts.ID", ondelete="CASCADE"),
        primary_key=True,
    ),
    _id("uuid", nullable=False, unique=True),
    Column("default_billing_type", String(16), nullable=True),
    Column("journey_billing_mode", String(16), nullable=True),
    Column("file_export_language", String(2), nullable=True),
    _flag("is_internal"),
    _flag("requires_internal_charge"),
    Column("price_category_overrides", JSON, nullable=False),
    Column("price_surcharge_overrides", JSON, nullable=False),
    # NULL: follow the setting fileExports.timeSheets.showSignatureField.
    Column("show_signature_field", Boolean, nullable=True),
)

customer_locations = Table(
    "flow_customer_locations",
    metadata,
    _id("id", primary_key=True),
    Column(
        "account_id",
        Integer,
        ForeignKey("flow_customers.account_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("number", Text, nullable=False),
    Column("name", Text, nullable=False, server_default=EMPTY),
    Column("street", Text, nullable=False, server_default=EMPTY),
    Column("zip", String(32), nullable=False, server_default=EMPTY),
    Column("city", Text, nullable=False, server_default=EMPTY),
    Column("country", Text, nullable=False, server_default=EMPTY),
    Index("ix_flow_customer_locations_account_id", "account_id"),
)

price_categories = Table(
    "flow_price_categories",
    metadata,
    _id("id", primary_key=True),
    Column("name", Text, nullable=False),
    Column("hourly_rate_c", BigInteger, nullable=False),
    _flag("is_disabled"),
)

price_surcharges = Table(
    "flow_price_surcharges",
    metadata,
    _id("id", primary_key=True),
    Column("name", Text, nullable=False),
    Column("percentage_c", BigInteger, nullable=False),
    _flag("is_disabled"),
)

billings = Table(
    "flow_billings",
    metadata,
    _id("id", primary_key=True),
    Column("created_on", BigInteger, nullable=False),
    _id("created_by", nullable=True),
    _id("project_id", ForeignKey("flow_nodes.id"), nullable=False),
    # Snapshots taken when the billing is created.
    _id("customer_id", nullable=True),
    Column("journey_billing_mode", String(16), nullable=False),
    Column("flat_rate_journey_price_c", BigInteger, nullable=False),
    Column("interval", String(16), nullable=True),
    Column("interval_from", String(10), nullable=True),
    Column("interval_to", String(10), nullable=True),
    Column("internal_comment", Text, nullable=False, server_default=EMPTY),
    Column("public_note", Text, nullable=False, server_default=EMPTY),
    Column("erp_status", String(16), nullable=False, server_default=text("'none'")),
    Column("erp_reference", Text, nullable=False, server_default=EMPTY),
    Column("erp_message", Text, nullable=False, server_default=EMPTY),
    Index("ix_flow_billings_project_id", "project_id"),
    Index("ix_flow_billings_customer_id", "customer_id"),
)

billing_work_packages = Table(
    "flow_billing_work_packages",
    metadata,
    _id("billing_id", ForeignKey("flow_billings.id", ondelete="CASCADE"), nullable=False),
    _id("work_package_id", ForeignKey("flow_nodes.id"), nullable=False),
    Column("position", Integer, nullable=False),
    # The package's first billing charges its fixed price; later ones charge nothing.
    _flag("charges_fixed_price"),
    PrimaryKeyConstraint("billing_id", "work_package_id"),
    Index("ix_flow_billing_work_packages_work_package_id", "work_package_id"),
)

time_records = Table(
    "flow_time_records",
    metadata,
    _id("id", primary_key=True),
    _id("user_uuid", nullable=False),
    # Wall-clock times encoded as if they were UTC; never shifted by a time zone.
    Column("work_time_start", BigInteger, nullable=True),
    Column("work_time_end", BigInteger, nullable=True),
    Column("billing_start", BigInteger, nullable=True),
    Column("billing_end", BigInteger, nullable=True),
    # COALESCE(work_time_start, billing_start): the record's date for searches and billing.
    Column("record_time", BigInteger, nullable=True),
    Column("message", Text, nullable=False, server_default=EMPTY),
    _flag("is_journey"),
    _id("reference_node_id", ForeignKey("flow_nodes.id"), nullable=True),
    _id("work_package_id", ForeignKey("flow_nodes.id"), nullable=True),
    _id("price_category_id", ForeignKey("flow_price_categories.id"), nullable=True),
    _id("price_surcharge_id", ForeignKey("flow_price_surcharges.id"), nullable=True),
    # Not indexed: see billing_sums.billed_by.
    _id("billing_id", ForeignKey("flow_billings.id"), nullable=True),
    Column("billed_on", BigInteger, nullable=True),
    Column("created_on", BigInteger, nullable=False),
    Column("last_changed_on", BigInteger, nullable=False),
    _id("last_changed_by", nullable=True),
    Index("ix_flow_time_records_work_package_id", "work_package_id"),
    Index("ix_flow_time_records_reference_node_id", "reference_node_id"),
    Index("ix_flow_time_records_user_uuid", "user_uuid"),
    Index("ix_flow_time_records_record_time", "record_time"),
)

settings = Table(
    "flow_settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", JSON, nullable=True),
)

project_roles = Table(
    "flow_project_roles",
    metadata,
    _id("id", primary_key=True),
    Column("name", Text, nullable=False),
    _flag("is_project_manager"),
)

# principal_kind is 'user' or 'group'; principal_uuid the core row's uuid.
role_assignments = Table(
    "flow_role_assignments",
    metadata,
    _id("node_id", ForeignKey("flow_nodes.id", ondelete="CASCADE"), nullable=False),
    _id("role_id", ForeignKey("flow_project_roles.id", ondelete="CASCADE"), nullable=False),
    Column("principal_kind", String(8), nullable=False),
    _id("principal_uuid", nullable=False),
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("node_id", "role_id", "principal_kind", "principal_uuid"),
    Index("ix_flow_role_assignments_role_id", "role_id"),
)
