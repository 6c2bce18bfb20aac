"""provision: provisions what the Azure Monitor Logs Ingestion API needs.

The package is layered (see docs/architecture.md): ``spec`` (scenario files),
``kql`` (transformKql engine), ``render`` (Jinja templates -> request bodies),
``plan`` (pure diff), ``azure``/``apply``/``outputs`` (talking to Azure) and
``emulator`` (the local Azure). ``cli`` wires them to the command line.
Importing this package imports nothing heavy.
"""

__version__ = "0.1.0"
