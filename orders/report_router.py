"""The service report over HTTP (`/admin/v1/reports/service`): a thin handler over orders.report, in JSON or,
asked for with `Accept: text/csv`, as CSV."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from orders import report
from orders.report_schemas import ReportGroup, ServiceReport
from retail.auth import StaffReadKey
from retail.clock import utcnow
from retail.db import ReadSessionDep
from retail.errors import problem_responses
from retail.routing import OneHopRoute

router = APIRouter(
    prefix="/admin/v1", tags=["admin"], responses=problem_responses(401, 403), route_class=OneHopRoute
)

DEFAULT_DAYS = 28
"""Left out, `to` is the latest date it is anywhere (UTC+14: every store's today) and `from` the 27 days
before it: four weeks, every weekday four times."""


@router.get(
    "/reports/service",
    name="admin_service_report",
    response_model=ServiceReport,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        **problem_responses(404, 422),
    },
)
def service_report(
    session: ReadSessionDep,
    principal: StaffReadKey,
    date_from: Annotated[date | None, Query(alias="from", description="first day, inclusive")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="last day, inclusive")] = None,
    store: Annotated[str | None, Query(max_length=32, description="one store's code")] = None,
    group: Annotated[ReportGroup, Query()] = ReportGroup.day,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> ServiceReport | Response:
    """Whether the stores kept their promises: per store and day (`group=day`) or per store over the
    range (`group=store`, `day` null), over the orders placed from `from` to `to` (dates, inclusive, in
    each store's zone; at most 366 days). An admin key sees every store or `store`; a staff key its own
    store only (another is 403 `wrong_store`). `Accept: text/csv` answers the same items as CSV."""
    date_to = date_to or (utcnow() + timedelta(hours=14)).date()
    date_from = date_from or date_to - timedelta(days=DEFAULT_DAYS - 1)
    items = report.service_report(
        session, principal=principal, date_from=date_from, date_to=date_to, store_code=store, group=group
    )
    if accept is not None and "text/csv" in accept.lower():
        return Response(
            report.as_csv(items),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="service-report-{date_from}-{date_to}.csv"'
            },
        )
    return ServiceReport(items=items)
