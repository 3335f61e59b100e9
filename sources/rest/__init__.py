"""The REST engine: streams described as data (:class:`RestStream`), read by one generic connector.

``type = "rest"`` connections declare their streams in hub.toml (:mod:`hub.sources.rest.spec`); built-in connectors
declare theirs in Python with the same dataclasses. Both are read by :mod:`hub.sources.rest.engine`.
"""

from hub.sources.rest.stream import (Auth, CursorPaginator, Incremental, LinkHeaderPaginator, NextUrlPaginator,
                                     OffsetPaginator, PagePaginator, Paginator, RateLimit, RestStream, RestTarget)

__all__ = ["Auth", "CursorPaginator", "Incremental", "LinkHeaderPaginator", "NextUrlPaginator", "OffsetPaginator",
           "PagePaginator", "Paginator", "RateLimit", "RestStream", "RestTarget"]
