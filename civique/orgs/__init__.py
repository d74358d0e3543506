"""Organisations (tenants), units, teams and the models each organisation allows."""
