"""Vector stores declared in schemas rather than through a client SDK.

pgvector: ``CREATE EXTENSION vector``, ``vector(n)`` columns in SQL and migrations (also a bare ``vector``
column in ``.sql``), query parameters
cast to ``::vector`` in code, ``vector(n)`` columns of SQL held in code strings, ORM column types
(JPA ``columnDefinition``, Knex ``specificType``, TypeORM ``@Column``, Hibernate ``SqlTypes.VECTOR``),
Rails migrations (``enable_extension "vector"``, ``t.vector``), Prisma
``Unsupported("vector(n)")`` fields and ``extensions = [vector]``, Drizzle ``vector("col", {
dimensions })`` columns. OpenSearch as a vector store: a ``VECTORSEARCH`` serverless collection in IaC
or a ``knn_vector`` field in an index mapping; Elasticsearch's ``dense_vector`` field; Redis vector
fields (redis-py ``VectorField``, ``FT.CREATE ... VECTOR HNSW``) in code that uses Redis. Neo4j as a vector
store: a vector index's ``vector.dimensions`` option or a ``db.index.vector.*`` procedure in Cypher (in
code strings or ``.cypher`` files). Comment lines do not count.
"""

from __future__ import annotations

from collections.abc import Iterator

from common.scanner.detectors.base import Detector, FileReport, Finding, SourceFile
from common.scanner.detectors.secrets import marked_lines
from common.scanner.keys import component_key
from common.scanner.lazy import lazy_re
from common.scanner.limits import linear

PGVECTOR_EXTENSION = lazy_re(r"""(?i)\bcreate\s+extension\s+(?:if\s+not\s+exists\s+)?["'`]?vector\b""")
SQL_VECTOR_COLUMN = lazy_re(
    r"""(?i)^\s*["`]?\w{1,64}["`]?\s+(?:vector|halfvec|sparsevec)\s*\(\s*\d{1,6}\s*\)"""
)
# pgvector also takes a column without dimensions (``embedding vector,``: vectors of any length); in a
# ``.sql`` file only, where the bare word ends a column definition
SQL_BARE_VECTOR_COLUMN = lazy_re(
    r"""(?i)^\s*["`]?\w{1,64}["`]?\s+vector\s*(?:,|\)|$|(?:not\s+null|null|default|check|constraint)\b)"""
)
PRISMA_VECTOR = lazy_re(
    r"""Unsupported\(\s*"vector(?:\(\d{1,5}\))?"\s*\)|\bextensions\s*=\s*\[[^\]\n]{0,200}\bvector\b"""
)
# A query parameter or expression cast to pgvector's type (``embedding <=> %s::vector``).
PGVECTOR_CAST = lazy_re(r"""(?:%s|\?|\$\d+|\)|'|")\s*::\s*vector\b""")
# SQL in a code string: a table definition or change with a ``vector(n)`` column on one line
EMBEDDED_VECTOR_COLUMN = linear(
    r"""(?i)\b(?:create\s+table|alter\s+table|add\s+column)\b[^\n]{0,300}?\b\w{1,64}["`]?\s+(?:vector|halfvec)\s*\(\s*\d{1,6}\s*\)"""
)
# Rails migrations and schema.rb: ``enable_extension "vector"``, ``t.vector :embedding``,
# ``add_column :documents, :embedding, :vector``
RAILS_VECTOR = linear(
    r"""\benable_extension\s*\(?\s*["']vector["']|\bt\.vector\s+[:"']|\badd_column\s+[^\n]{0,160},\s*:vector\b"""
)
# an ORM's column type written as pgvector's: a JPA ``columnDefinition = "vector(1536)"``, Knex
# ``specificType("embedding", "vector(1536)")``, TypeORM ``@Column({ type: "vector", length: 1536 })``,
# Hibernate's ``@JdbcTypeCode(SqlTypes.VECTOR)``. An embedding has tens of dimensions at least: a quoted
# ``"vector(3)"`` is a schema tool's test input, not a store
ORM_VECTOR_TYPE = linear(
    r"""["'](?:vector|halfvec|sparsevec)\s*\(\s*\d{2,6}\s*\)["']"""
    r"""|@Column\(\s*(?:\{[^}\n]{0,200}?\btype\s*:\s*)?["'](?:vector|halfvec|sparsevec)["']|\bSqlTypes\.VECTOR\b"""
)
DRIZZLE_VECTOR = lazy_re(r"""\bvector\(\s*["'`]\w{1,64}["'`]\s*,\s*\{\s*dimensions\s*:""")
OPENSEARCH_VECTOR = lazy_re(r"""["']?(?:type|Type)["']?\s*[:=]\s*["']?(?:VECTORSEARCH|knn_vector)\b""")
# Elasticsearch's vector field in an index mapping (``"type": "dense_vector"``)
ELASTIC_VECTOR = lazy_re(r"""["']?type["']?\s*[:=]\s*["']dense_vector["']""")
# Redis as a vector store: redis-py's ``VectorField(...)`` or a raw ``FT.CREATE ... VECTOR HNSW`` schema
REDIS_VECTOR = lazy_re(
    r"""\bVectorField\(\s*["'][^"'\n]{1,100}["']\s*,\s*["'](?:HNSW|FLAT)["']|\bVECTOR\s+["']?(?:HNSW|FLAT)\b"""
)
# Neo4j's vector index: ``OPTIONS {indexConfig: {`vector.dimensions`: 384}}`` on ``CREATE VECTOR INDEX``, or
# the procedures that create and query one (``db.index.vector.queryNodes('idx', k, $embedding)``)
NEO4J_VECTOR = lazy_re(r"""`vector\.dimensions`|\bdb\.index\.vector\.(?:create|query)\w{0,40}\s*\(""")
# ``"vec" in text.lower()`` without lowering every code file: no character but V, E and C lowers to (a
# text holding) v, e or c, so the lowered text holds "vec" exactly where the text holds these in any case
VEC_ANY_CASE = linear(r"[vV][eE][cC]")
COMMENT_PREFIXES = ("--", "//", "#", "/*", "*")
CODE_SUFFIXES = (".py", ".ts", ".js", ".mjs", ".go", ".rb", ".java", ".kt", ".cs", ".rs")
IAC_SUFFIXES = (".tf", ".json", ".yaml", ".yml", ".template")


class VectorStoreDetector(Detector):
    name = "vector_store"

    def applies_to(self, file: SourceFile) -> bool:
        return file.suffix in (".sql", ".prisma", ".cypher", *CODE_SUFFIXES, *IAC_SUFFIXES)

    def detect(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        text = file.text
        if VEC_ANY_CASE.search(text) is None:  # vector, and pgvector's halfvec / sparsevec column types
            return
        lowered = text.lower()
        drizzle = "drizzle-orm" in text
        redis = file.suffix in CODE_SUFFIXES and "redis" in lowered
        lines = file.lines
        # every pattern below spells vector, halfvec or sparsevec: only lines holding "vec" in any case,
        # found in the lowered text (lowering makes and removes no line break)
        for number in marked_lines(lowered, ("vec",)):
            raw = lines[number - 1]
            stripped = raw.lstrip()
            if not stripped or stripped.startswith(COMMENT_PREFIXES):
                continue
            if PGVECTOR_EXTENSION.search(raw) or (
                (
                    file.suffix == ".sql"
                    and (SQL_VECTOR_COLUMN.search(raw) or SQL_BARE_VECTOR_COLUMN.search(raw))
                )
                or (file.suffix == ".prisma" and PRISMA_VECTOR.search(raw))
                or (drizzle and DRIZZLE_VECTOR.search(raw))
                or (file.suffix in CODE_SUFFIXES and PGVECTOR_CAST.search(raw))
                or (file.suffix in CODE_SUFFIXES and SQL_VECTOR_COLUMN.search(raw))
                or (file.suffix in CODE_SUFFIXES and EMBEDDED_VECTOR_COLUMN.search(raw))
                or (file.suffix in CODE_SUFFIXES and ORM_VECTOR_TYPE.search(raw))
                or (file.suffix == ".rb" and RAILS_VECTOR.search(raw))
            ):
                yield self.store(file, number, "pgvector", "pgvector")
            elif file.suffix not in (".sql", ".prisma") and OPENSEARCH_VECTOR.search(raw):
                yield self.store(file, number, "opensearch", "Amazon Web Services")
            elif file.suffix not in (".sql", ".prisma") and ELASTIC_VECTOR.search(raw):
                yield self.store(file, number, "elasticsearch", "Elastic")
            elif redis and REDIS_VECTOR.search(raw):
                yield self.store(file, number, "redis", "Redis")
            elif file.suffix in (".cypher", *CODE_SUFFIXES) and NEO4J_VECTOR.search(raw):
                yield self.store(file, number, "neo4j", "Neo4j")

    def store(self, file: SourceFile, line: int, name: str, provider: str) -> Finding:
        return Finding(
            key=component_key("vector_db", name),
            name=name,
            type="vector_db",
            provider=provider,
            location=file.location(line),
            detector=self.name,
            metadata={"declared_in": "schema"},
        )
