"""Plot families for scripts/plot.py: one module per family."""
