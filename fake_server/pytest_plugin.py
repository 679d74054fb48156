"""pytest plugin of the fake deposit, registered through the pytest11 entry point."""
