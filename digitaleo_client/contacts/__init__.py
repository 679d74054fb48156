"""The deposit's CSV format: columns, reading exports, validation, writing parts."""
