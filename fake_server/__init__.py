"""A fake Digitaleo deposit that applies the deposit's processing rules."""
