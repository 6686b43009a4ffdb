"""Every policy a pack has had: `pack_policies`, so a grant keeps the terms it was issued under.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pack_policies",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("pack_id", sa.String(64), sa.ForeignKey("packs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("policy_hash", sa.String(64), nullable=False),
        sa.Column("policy_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_pack_policies_pack_id", "pack_policies", ["pack_id"])
    # The policy in force now is the only one known for packs registered before this revision: grants issued under
    # an earlier one are judged by the current policy, as before.
    op.execute(
        "INSERT INTO pack_policies (pack_id, policy_hash, policy_json, created_at) "
        "SELECT id, policy_hash, policy_json, updated_at FROM packs"
    )


def downgrade() -> None:
    op.drop_index("ix_pack_policies_pack_id", table_name="pack_policies")
    op.drop_table("pack_policies")
