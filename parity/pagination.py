"""Limit/offset pagination with bounds: an unbounded ``?limit=`` or ``?offset=`` reaches the database
as a number PostgreSQL cannot hold (bigint) and turns a list request into a 500."""
from rest_framework.pagination import LimitOffsetPagination

MAX_OFFSET = 10**12  # far past any table; beyond it the page is empty anyway


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 500

    def get_offset(self, request) -> int:
        return min(super().get_offset(request), MAX_OFFSET)
