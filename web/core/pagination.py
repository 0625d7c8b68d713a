"""The one list shape: ``{"items", "page", "per_page", "total"}``."""

from __future__ import annotations

import functools

import marshmallow as ma
from flask import request
from sqlalchemy import Select, bindparam, func, select

from web.core.database import db

# Fields webargs reads as every value of a repeated query argument (``MultiDictProxy``).
MULTI_VALUED_FIELDS = (ma.fields.List, ma.fields.Tuple)
# Valid query strings whose loaded arguments are remembered, per schema, and the longest one remembered.
QUERIES_REMEMBERED = 256
QUERY_REMEMBERED_BYTES = 512


def _is_multi_valued(field: ma.fields.Field) -> bool:
    """As webargs decides: a field's own ``is_multiple``, else its kind."""
    declared = getattr(field, "is_multiple", None)
    return declared if declared is not None else isinstance(field, MULTI_VALUED_FIELDS)


class PageArgs(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100000))
    per_page = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))

    @ma.validates_schema
    def no_nul_in_filters(self, data, **_kwargs):
        """A filter's text is compared in PostgreSQL, which refuses a NUL byte in text: a 422 for the
        argument, not a 500 from the driver."""
        for name, value in data.items():
            if isinstance(value, str) and "\x00" in value:
                raise ma.ValidationError("Must not contain a NUL character.", name)


def page_args_with(**filters: ma.fields.Field) -> type[ma.Schema]:
    """A query-args schema for a list endpoint: pagination plus the named filters."""
    return type("ListArgs", (PageArgs,), dict(filters))


def query_arguments(blp, schema: ma.Schema):
    """``blp.arguments(schema, location="query")``, documented and parsed alike, except that webargs is
    skipped while the arguments are valid: a request without a query string (a hot list's first page)
    gets the schema's defaults, loaded once here; one with a query string gets ``schema.load`` of the
    query's first value per name, unknown names left out, which is what webargs loads for a schema of
    single-valued fields. Only an invalid query goes through webargs, for its error answer.

    webargs wraps the query in a proxy that looks every field of the schema up in werkzeug's ``MultiDict``,
    where each absent one raises and catches a ``BadRequestKeyError``: ten exceptions for a page of
    components asked with ``?per_page=20``. The load itself (marshmallow's fields, validators and schema
    hooks) was still a tenth of a components page, and it is a pure function of the query string: the
    last ``QUERIES_REMEMBERED`` valid ones of at most ``QUERY_REMEMBERED_BYTES`` are loaded once (a
    client polling its page sends the same one each time). A refusal is never remembered."""
    defaults = schema.load({})
    single_valued = not any(_is_multi_valued(field) for field in schema.fields.values())

    def load() -> dict:
        return schema.load(dict(request.args.items()), unknown=ma.EXCLUDE)

    @functools.lru_cache(maxsize=QUERIES_REMEMBERED)
    def remembered(query_string: bytes) -> tuple:
        """``load`` of the request whose query string this is (``request.args`` is parsed from it alone)."""
        return tuple(load().items())

    def decorator(view):
        parsing = blp.arguments(schema, location="query")(view)

        @functools.wraps(parsing)
        def wrapper(*args, **kwargs):
            query_string = request.query_string
            if not query_string:
                return view(dict(defaults), *args, **kwargs)
            if not single_valued:
                return parsing(*args, **kwargs)
            try:
                if len(query_string) <= QUERY_REMEMBERED_BYTES:
                    arguments = dict(remembered(query_string))
                else:
                    arguments = load()
            except ma.ValidationError:
                return parsing(*args, **kwargs)
            return view(arguments, *args, **kwargs)

        wrapper.remembered_queries = remembered
        return wrapper

    return decorator


def paginate(
    query: Select,
    page: int,
    per_page: int,
    serialize,
    *,
    rows_of_entities: bool = False,
    total: int | None = None,
) -> dict:
    """``rows_of_entities``: the query selects several entities, and ``serialize`` takes the whole row.
    ``total``: the size of the whole list when the caller already knows it (no ``count(*)`` then)."""
    if total is None:
        total = db().scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page_query = query.limit(per_page).offset((page - 1) * per_page)
    rows = db().execute(page_query).all() if rows_of_entities else db().scalars(page_query).all()
    return {"items": [serialize(row) for row in rows], "page": page, "per_page": per_page, "total": total}


def counted_page(query: Select) -> Select:
    """One page of ``query`` (``limit`` and ``offset`` bound at execution) whose rows each carry the size
    of the whole list: build it once, run it with ``paginate_counted``.

    The size is an uncorrelated sub-select (run once, counting off an index), not a window count: a window
    over the whole list makes PostgreSQL read and sort every row of it (each queued scan of a busy
    organization) for a page of twenty, where the page alone is read off the list's index."""
    total = select(func.count()).select_from(query.order_by(None).subquery("listed")).scalar_subquery()
    counted = query.add_columns(total.label("list_total"))
    return counted.limit(bindparam("limit")).offset(bindparam("offset"))


def paginate_counted(statement: Select, params: dict, page: int, per_page: int, serialize) -> dict:
    """``paginate`` in one statement for a ``counted_page`` of Core columns; ``serialize`` takes the row.
    Only a page past the end counts again."""
    offset = (page - 1) * per_page
    rows = db().connection().execute(statement, {**params, "limit": per_page, "offset": offset}).all()
    if rows:
        total = rows[0].list_total
    elif page == 1:
        total = 0
    else:
        whole = statement.limit(None).offset(None).subquery()
        total = db().connection().scalar(select(func.count()).select_from(whole), params)
    return {"items": [serialize(row) for row in rows], "page": page, "per_page": per_page, "total": total}
