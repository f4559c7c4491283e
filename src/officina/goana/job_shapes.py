"""The wire shapes of jobs and their parameter values (simple and full shape in one)."""

from __future__ import annotations

from officina.goana.locations import LOCATION
from officina.goana.template_model import DC_VALUE
from officina.goana.wire import Field, Shape


def _contact_shape() -> Shape:
    from officina.goana.contacts import CONTACT

    return CONTACT


JOB_PARAMETER = Shape(
    "JobParameter",
    (
        Field("Name", "str", 200, required=True, doc="parameter name within the template"),
        Field("Value", "str", doc="the value"),
        Field("Key", "str", doc="chosen option key(s) or a contact's Reference"),
        Field("Variant", "int", doc="which occurrence, from 1"),
        Field("Contact", "object", shape=_contact_shape(), doc="for Contact parameters"),
        Field("Location", "object", shape=LOCATION, doc="for Location parameters"),
        # The definition part, used only when the job creates its template.
        Field("Type", "str", 20, write_only=True, doc="definition: parameter type"),
        Field("Title", "str", 100, write_only=True, doc="definition: label"),
        Field("DefaultValue", "str", 100, write_only=True, doc="definition: default"),
        Field("MinOcc", "int", write_only=True, doc="definition: minimum occurrences"),
        Field("MaxOcc", "int", write_only=True, doc="definition: maximum occurrences"),
        Field("Order", "int", write_only=True, doc="definition: display order"),
        Field(
            "DataCollectionValues",
            "list",
            item="object",
            shape=DC_VALUE,
            write_only=True,
            doc="definition: options",
        ),
        Field("UseAsJobTitle", "bool", write_only=True, doc="definition: value is the title"),
        Field("PageTitle", "str", 30, write_only=True, doc="definition: form section"),
    ),
    doc="A parameter value of a job (and, in the full shape, its definition).",
)

JOB = Shape(
    "Job",
    (
        Field("Key", "str", 200, doc="identifies the job; the add-or-change key"),
        Field("PlannedTime", "datetime", doc="when the job is planned"),
        Field("Duration", "timespan", doc="planned length, hh:mm:ss"),
        Field("JobTemplateTitle", "str", 200, doc="English title of the template"),
        Field("JobTemplateId", "int", doc="id of the template"),
        Field("Team", "str", 200, doc="team of a job not assigned to a user"),
        Field("UserEmail", "str", 200, doc="e-mail of the assigned user"),
        Field(
            "Parameters", "list", item="object", shape=JOB_PARAMETER, required=True, doc="values"
        ),
        Field("Status", "str", 200, read_only=True, doc="English status name"),
        # The template definition of the full shape.
        Field("ColorCode", "str", 7, write_only=True, doc="definition: colour"),
        Field("CanCreateOnMobile", "bool", write_only=True, doc="definition: mobile create"),
        Field("CanEditOnMobile", "bool", write_only=True, doc="definition: mobile edit"),
        Field("StatusDisplayName", "str", read_only=True, doc="status in the request language"),
        Field(
            "JobTemplateDisplayTitle", "str", read_only=True, doc="template title, request language"
        ),
        Field("Title", "str", read_only=True, doc="the job's display title"),
        Field("Created", "datetime", read_only=True),
        Field("Modified", "datetime", read_only=True),
    ),
    doc="A job, in the simple shape or the full shape that also defines its template.",
)

STATUS_CHANGE = Shape(
    "JobStatusChange",
    (Field("Status", "str", 200, required=True, doc="English name of the new status"),),
    doc="The new status of a job.",
)
