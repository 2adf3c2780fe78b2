"""Brain-Score model interface, time alignment, metrics, ceilings, controls, statistics."""
