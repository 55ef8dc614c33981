"""Spec of graph.neo4j_backend's DDL (the integration behaviour runs through the ``store`` fixture
of the other graph specs when NEO4J_URI is set)."""

from lineage_pipeline.graph import cypher
from lineage_pipeline.graph.neo4j_backend import schema_statements


def test_schema_statements_are_idempotent_and_cover_every_key_and_relationship():
    statements = schema_statements()
    assert all("IF NOT EXISTS" in s for s in statements)
    for label, key in cypher.NODE_KEYS.items():
        assert any(f"FOR (n:{label}) REQUIRE n.{key} IS UNIQUE" in s for s in statements)
    for rel_type in cypher.RELATIONSHIP_ENDPOINTS:
        assert any(f"FOR ()-[e:{rel_type}]-() ON (e.file)" in s for s in statements)
