"""The composition root: the one package that imports every domain (app factory, CLI, registry, migrations
runner)."""
