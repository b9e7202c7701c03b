"""The module contract and registry: how protocol plug-ins meet the core and the faces."""
