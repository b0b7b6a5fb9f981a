"""Figures of the workbook, one module per subject; each function returns a matplotlib Figure."""
