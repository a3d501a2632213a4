"""The seeded offline clouds of ``costscan demo`` and the fakes that answer what moto lacks.

A room of its own: product code never imports it (only the ``demo`` command, lazily).
"""
