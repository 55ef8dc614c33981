"""Lineage a user can see and act on: impact analysis, pictures of the graph, OpenLineage export.

Everything here reads the graph through ``GraphBackend.read`` with parameterised Cypher that runs on
FalkorDB and Neo4j alike; nothing here writes to the graph.
"""
