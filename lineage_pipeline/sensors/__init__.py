"""Sensor-driven ingestion: change detection, debounced batching and the corpus sensor."""
