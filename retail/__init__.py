"""The kernel every domain stands on: settings, database, errors, auth, tasks, logs and metrics.

The one thing done on import: every table of every domain must join one metadata with the naming
convention below, so it is set here, before any module of the kernel (and so any domain's `models.py`,
which imports the kernel) defines a table.
"""

from sqlalchemy import MetaData
from sqlmodel import SQLModel

# Constraint names must be stable for Alembic to alter them later, on SQLite (batch mode) as on PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata = MetaData(naming_convention=NAMING_CONVENTION)
