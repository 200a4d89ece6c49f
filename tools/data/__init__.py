"""Builders of the domain's data tables (number and postal zones, area codes), run by hand after upgrades."""
