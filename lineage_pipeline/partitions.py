"""Corpus domains (top-level folders) as dynamic partitions, registered by a corpus scan."""

import dagster as dg

domain_partitions = dg.DynamicPartitionsDefinition(name="corpus_domain")
