"""Corpus domains (top-level folders) as dynamic partitions, registered by a corpus scan."""

import dagster as dg

DOMAIN_PARTITIONS = "corpus_domain"
"""Name of the dynamic partitions definition: one partition per corpus domain."""

domain_partitions = dg.DynamicPartitionsDefinition(name=DOMAIN_PARTITIONS)
