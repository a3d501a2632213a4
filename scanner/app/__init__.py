"""The composition root: the engine and the command line, the only place that wires
providers, pipeline steps, policies and reports together."""
