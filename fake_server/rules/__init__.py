"""The deposit's processing rules, applied by the processor to one file at a time."""
