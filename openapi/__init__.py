"""The contract, openapi.yaml, as package data of accounting_conformance (read with importlib.resources)."""
