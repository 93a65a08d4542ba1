"""The demo chain that `retail demo` and `retail serve --demo` load: stores in Dutch and Belgian towns, a
catalogue, store prices, stock, and demo API keys. Generators beside their tables (`demo/data/`); only
the CLI imports this package, and no domain package knows it."""
