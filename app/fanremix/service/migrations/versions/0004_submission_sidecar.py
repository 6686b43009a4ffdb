"""The .c2pa sidecar of a kept submission (OGG), stored under its own content address: `submissions.sidecar_name`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("sidecar_name", sa.String(200), nullable=True))
    # Sidecars kept before this revision were stored as uploads/<audio sha>.c2pa beside their audio
    op.execute(
        "UPDATE submissions SET sidecar_name = substr(stored_name, 1, length(stored_name) - 4) || '.c2pa' "
        "WHERE stored_name LIKE '%.ogg'"
    )


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("sidecar_name")
