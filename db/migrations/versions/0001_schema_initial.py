"""schéma initial

Revision ID: 0001
Revises: (aucune)
Create Date: 2026-11-25 19:14:15.347603
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    
    op.create_table('app_setting',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_app_setting'))
    )
    op.create_table('audit_entry',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('login', sa.String(length=128), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=80), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('batch_id', sa.Uuid(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index('ix_audit_entry_entity', ['entity', 'entity_id'], unique=False)

    op.create_table('contract_type',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('default_duration_years', sa.Integer(), nullable=True),
    sa.Column('approach', sa.String(length=60), nullable=True),
    sa.Column('typical_parties', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_type')),
    sa.UniqueConstraint('code', name=op.f('uq_contract_type_code'))
    )
    op.create_table('epci',
    sa.Column('code', sa.String(length=9), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('financing_mode', sa.String(length=8), nullable=True),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_epci'))
    )
    op.create_table('funding_scheme',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('state_investment_grant', sa.Boolean(), nullable=False),
    sa.Column('state_subsidy', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_funding_scheme'))
    )
    op.create_table('region',
    sa.Column('code', sa.String(length=3), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_region'))
    )
    op.create_table('departement',
    sa.Column('code', sa.String(length=3), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=False),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_departement_region_code_region')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_departement'))
    )
    with op.batch_alter_table('departement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_departement_region_code'), ['region_code'], unique=False)

    op.create_table('arrondissement',
    sa.Column('code', sa.String(length=4), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('departement_code', sa.String(length=3), nullable=False),
    sa.Column('chef_lieu', sa.String(length=5), nullable=True),
    sa.ForeignKeyConstraint(['departement_code'], ['departement.code'], name=op.f('fk_arrondissement_departement_code_departement')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_arrondissement'))
    )
    with op.batch_alter_table('arrondissement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_arrondissement_departement_code'), ['departement_code'], unique=False)

    op.create_table('commune',
    sa.Column('code', sa.String(length=5), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('departement_code', sa.String(length=3), nullable=False),
    sa.Column('arrondissement_code', sa.String(length=4), nullable=True),
    sa.Column('siren', sa.String(length=9), nullable=True),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.Column('postal_codes', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['arrondissement_code'], ['arrondissement.code'], name=op.f('fk_commune_arrondissement_code_arrondissement')),
    sa.ForeignKeyConstraint(['departement_code'], ['departement.code'], name=op.f('fk_commune_departement_code_departement')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_commune'))
    )
    with op.batch_alter_table('commune', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commune_arrondissement_code'), ['arrondissement_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_commune_departement_code'), ['departement_code'], unique=False)

    op.create_table('contract',
    sa.Column('reference', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('type_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('signature_date', sa.Date(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('arrondissement_code', sa.String(length=4), nullable=True),
    sa.Column('territory', sa.Text(), nullable=True),
    sa.Column('envelope_total_cents', sa.BigInteger(), nullable=True),
    sa.Column('envelope_state_cents', sa.BigInteger(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('origin', sa.String(length=32), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.CheckConstraint("status IN ('en_preparation', 'signe', 'en_execution', 'clos', 'resilie')", name=op.f('ck_contract_status')),
    sa.ForeignKeyConstraint(['arrondissement_code'], ['arrondissement.code'], name=op.f('fk_contract_arrondissement_code_arrondissement')),
    sa.ForeignKeyConstraint(['type_id'], ['contract_type.id'], name=op.f('fk_contract_type_id_contract_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract')),
    sa.UniqueConstraint('reference', name=op.f('uq_contract_reference'))
    )
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_arrondissement_code'), ['arrondissement_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_type_id'), ['type_id'], unique=False)

    op.create_table('amendment',
    sa.Column('contract_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('amendment_date', sa.Date(), nullable=True),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('envelope_change_cents', sa.BigInteger(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_amendment_contract_id_contract'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_amendment'))
    )
    with op.batch_alter_table('amendment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_amendment_contract_id'), ['contract_id'], unique=False)

    op.create_table('axis',
    sa.Column('contract_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=True),
    sa.Column('label', sa.String(length=500), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_axis_contract_id_contract'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_axis'))
    )
    with op.batch_alter_table('axis', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_axis_contract_id'), ['contract_id'], unique=False)

    op.create_table('contract_commune',
    sa.Column('contract_id', sa.Uuid(), nullable=False),
    sa.Column('commune_code', sa.String(length=5), nullable=False),
    sa.ForeignKeyConstraint(['commune_code'], ['commune.code'], name=op.f('fk_contract_commune_commune_code_commune')),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_contract_commune_contract_id_contract'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contract_id', 'commune_code', name=op.f('pk_contract_commune'))
    )
    with op.batch_alter_table('contract_commune', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_commune_commune_code'), ['commune_code'], unique=False)

    op.create_table('contract_epci',
    sa.Column('contract_id', sa.Uuid(), nullable=False),
    sa.Column('epci_code', sa.String(length=9), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_contract_epci_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['epci_code'], ['epci.code'], name=op.f('fk_contract_epci_epci_code_epci')),
    sa.PrimaryKeyConstraint('contract_id', 'epci_code', name=op.f('pk_contract_epci'))
    )
    with op.batch_alter_table('contract_epci', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_epci_epci_code'), ['epci_code'], unique=False)

    op.create_table('epci_member',
    sa.Column('epci_code', sa.String(length=9), nullable=False),
    sa.Column('commune_code', sa.String(length=5), nullable=False),
    sa.ForeignKeyConstraint(['commune_code'], ['commune.code'], name=op.f('fk_epci_member_commune_code_commune')),
    sa.ForeignKeyConstraint(['epci_code'], ['epci.code'], name=op.f('fk_epci_member_epci_code_epci')),
    sa.PrimaryKeyConstraint('epci_code', 'commune_code', name=op.f('pk_epci_member'))
    )
    with op.batch_alter_table('epci_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_epci_member_commune_code'), ['commune_code'], unique=False)

    op.create_table('organisation',
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('acronym', sa.String(length=60), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('siren', sa.String(length=14), nullable=True),
    sa.Column('commune_code', sa.String(length=5), nullable=True),
    sa.Column('epci_code', sa.String(length=9), nullable=True),
    sa.Column('departement_code', sa.String(length=3), nullable=True),
    sa.Column('region_code', sa.String(length=3), nullable=True),
    sa.Column('aliases', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.CheckConstraint("kind IN ('etat', 'operateur_etat', 'etablissement_public', 'region', 'departement', 'epci', 'commune', 'groupement', 'ue', 'association', 'entreprise', 'autre')", name=op.f('ck_organisation_kind')),
    sa.ForeignKeyConstraint(['commune_code'], ['commune.code'], name=op.f('fk_organisation_commune_code_commune')),
    sa.ForeignKeyConstraint(['departement_code'], ['departement.code'], name=op.f('fk_organisation_departement_code_departement')),
    sa.ForeignKeyConstraint(['epci_code'], ['epci.code'], name=op.f('fk_organisation_epci_code_epci')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_organisation_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation'))
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_commune_code'), ['commune_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_epci_code'), ['epci_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_name'), ['name'], unique=False)

    op.create_table('steering_meeting',
    sa.Column('contract_id', sa.Uuid(), nullable=False),
    sa.Column('meeting_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=120), nullable=False),
    sa.Column('decisions', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_steering_meeting_contract_id_contract'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_steering_meeting'))
    )
    with op.batch_alter_table('steering_meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_steering_meeting_contract_id'), ['contract_id'], unique=False)

    op.create_table('operation',
    sa.Column('reference', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('cost_ht_cents', sa.BigInteger(), nullable=True),
    sa.Column('cost_ttc_cents', sa.BigInteger(), nullable=True),
    sa.Column('base_kind', sa.String(length=3), nullable=False),
    sa.Column('eligible_cost_cents', sa.BigInteger(), nullable=True),
    sa.Column('deposit_date', sa.Date(), nullable=True),
    sa.Column('decision_date', sa.Date(), nullable=True),
    sa.Column('notification_date', sa.Date(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('start_extension_months', sa.Integer(), nullable=False),
    sa.Column('completion_extension_months', sa.Integer(), nullable=False),
    sa.Column('chef_de_file', sa.Boolean(), nullable=False),
    sa.Column('own_share_exception', sa.String(length=40), nullable=True),
    sa.Column('own_share_exception_ref', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('origin', sa.String(length=32), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.CheckConstraint("base_kind IN ('HT', 'TTC')", name=op.f('ck_operation_base_kind')),
    sa.CheckConstraint("own_share_exception IS NULL OR own_share_exception IN ('monument_historique', 'calamite', 'renouvellement_urbain', 'cooperation_territoriale_europeenne', 'derogation_prefet')", name=op.f('ck_operation_own_share_exception')),
    sa.CheckConstraint("status IN ('projet', 'depose', 'programme', 'engage', 'en_cours', 'acheve', 'solde', 'abandonne')", name=op.f('ck_operation_status')),
    sa.ForeignKeyConstraint(['owner_id'], ['organisation.id'], name=op.f('fk_operation_owner_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operation')),
    sa.UniqueConstraint('reference', name=op.f('uq_operation_reference'))
    )
    with op.batch_alter_table('operation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operation_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_operation_status'), ['status'], unique=False)

    op.create_table('signatory',
    sa.Column('contract_id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=300), nullable=True),
    sa.Column('signing_date', sa.Date(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_signatory_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_signatory_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signatory'))
    )
    with op.batch_alter_table('signatory', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signatory_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signatory_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('funding_line',
    sa.Column('operation_id', sa.Uuid(), nullable=False),
    sa.Column('financer_id', sa.Uuid(), nullable=True),
    sa.Column('scheme_code', sa.String(length=40), nullable=True),
    sa.Column('amount_requested_cents', sa.BigInteger(), nullable=True),
    sa.Column('amount_granted_cents', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('decision_reference', sa.String(length=120), nullable=True),
    sa.Column('decision_date', sa.Date(), nullable=True),
    sa.Column('commission_opinion_date', sa.Date(), nullable=True),
    sa.Column('budget_year', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.CheckConstraint("status IN ('sollicite', 'accorde', 'refuse')", name=op.f('ck_funding_line_status')),
    sa.CheckConstraint('amount_granted_cents IS NULL OR amount_granted_cents >= 0', name=op.f('ck_funding_line_granted_positive')),
    sa.CheckConstraint('amount_requested_cents IS NULL OR amount_requested_cents >= 0', name=op.f('ck_funding_line_requested_positive')),
    sa.ForeignKeyConstraint(['financer_id'], ['organisation.id'], name=op.f('fk_funding_line_financer_id_organisation')),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], name=op.f('fk_funding_line_operation_id_operation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scheme_code'], ['funding_scheme.code'], name=op.f('fk_funding_line_scheme_code_funding_scheme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funding_line'))
    )
    with op.batch_alter_table('funding_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funding_line_budget_year'), ['budget_year'], unique=False)
        batch_op.create_index('ix_funding_line_financer_scheme', ['financer_id', 'scheme_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_funding_line_operation_id'), ['operation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_funding_line_scheme_code'), ['scheme_code'], unique=False)

    op.create_table('operation_commune',
    sa.Column('operation_id', sa.Uuid(), nullable=False),
    sa.Column('commune_code', sa.String(length=5), nullable=False),
    sa.ForeignKeyConstraint(['commune_code'], ['commune.code'], name=op.f('fk_operation_commune_commune_code_commune')),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], name=op.f('fk_operation_commune_operation_id_operation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('operation_id', 'commune_code', name=op.f('pk_operation_commune'))
    )
    with op.batch_alter_table('operation_commune', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operation_commune_commune_code'), ['commune_code'], unique=False)

    op.create_table('operation_contract',
    sa.Column('operation_id', sa.Uuid(), nullable=False),
    sa.Column('contract_id', sa.Uuid(), nullable=False),
    sa.Column('axis_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['axis_id'], ['axis.id'], name=op.f('fk_operation_contract_axis_id_axis')),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_operation_contract_contract_id_contract')),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], name=op.f('fk_operation_contract_operation_id_operation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('operation_id', 'contract_id', name=op.f('pk_operation_contract'))
    )
    with op.batch_alter_table('operation_contract', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operation_contract_axis_id'), ['axis_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_operation_contract_contract_id'), ['contract_id'], unique=False)

    op.create_table('payment',
    sa.Column('funding_line_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('payment_date', sa.Date(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.CheckConstraint("kind IN ('avance', 'acompte', 'solde')", name=op.f('ck_payment_kind')),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_payment_amount_positive')),
    sa.ForeignKeyConstraint(['funding_line_id'], ['funding_line.id'], name=op.f('fk_payment_funding_line_id_funding_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment'))
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_funding_line_id'), ['funding_line_id'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_funding_line_id'))

    op.drop_table('payment')
    with op.batch_alter_table('operation_contract', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operation_contract_contract_id'))
        batch_op.drop_index(batch_op.f('ix_operation_contract_axis_id'))

    op.drop_table('operation_contract')
    with op.batch_alter_table('operation_commune', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operation_commune_commune_code'))

    op.drop_table('operation_commune')
    with op.batch_alter_table('funding_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funding_line_scheme_code'))
        batch_op.drop_index(batch_op.f('ix_funding_line_operation_id'))
        batch_op.drop_index('ix_funding_line_financer_scheme')
        batch_op.drop_index(batch_op.f('ix_funding_line_budget_year'))

    op.drop_table('funding_line')
    with op.batch_alter_table('signatory', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signatory_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_signatory_contract_id'))

    op.drop_table('signatory')
    with op.batch_alter_table('operation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operation_status'))
        batch_op.drop_index(batch_op.f('ix_operation_owner_id'))

    op.drop_table('operation')
    with op.batch_alter_table('steering_meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_steering_meeting_contract_id'))

    op.drop_table('steering_meeting')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_name'))
        batch_op.drop_index(batch_op.f('ix_organisation_epci_code'))
        batch_op.drop_index(batch_op.f('ix_organisation_commune_code'))

    op.drop_table('organisation')
    with op.batch_alter_table('epci_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_epci_member_commune_code'))

    op.drop_table('epci_member')
    with op.batch_alter_table('contract_epci', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_epci_epci_code'))

    op.drop_table('contract_epci')
    with op.batch_alter_table('contract_commune', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_commune_commune_code'))

    op.drop_table('contract_commune')
    with op.batch_alter_table('axis', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_axis_contract_id'))

    op.drop_table('axis')
    with op.batch_alter_table('amendment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_amendment_contract_id'))

    op.drop_table('amendment')
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_type_id'))
        batch_op.drop_index(batch_op.f('ix_contract_arrondissement_code'))

    op.drop_table('contract')
    with op.batch_alter_table('commune', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commune_departement_code'))
        batch_op.drop_index(batch_op.f('ix_commune_arrondissement_code'))

    op.drop_table('commune')
    with op.batch_alter_table('arrondissement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_arrondissement_departement_code'))

    op.drop_table('arrondissement')
    with op.batch_alter_table('departement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_departement_region_code'))

    op.drop_table('departement')
    op.drop_table('region')
    op.drop_table('funding_scheme')
    op.drop_table('epci')
    op.drop_table('contract_type')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entry_entity')
        batch_op.drop_index(batch_op.f('ix_audit_entry_batch_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_at'))

    op.drop_table('audit_entry')
    op.drop_table('app_setting')
    
