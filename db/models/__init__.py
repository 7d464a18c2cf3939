"""Every mapped table, imported here so `Base.metadata` is complete."""

from db.models.adjuster import Adjuster
from db.models.assignment_rule_set import AssignmentRuleSet
from db.models.audit_chain_head import AuditChainHead
from db.models.audit_log import AuditLog
from db.models.bill_claim_relation import BillClaimRelation
from db.models.claim import ClaimRegister
from db.models.claim_eligibility import ClaimEligibility
from db.models.claim_line_adjudication import ClaimLineAdjudication
from db.models.claim_note import ClaimNote
from db.models.claim_provider_info import ClaimProviderInfo
from db.models.claim_status_history import ClaimStatusHistory
from db.models.claim_test_relation import ClaimTestRelation
from db.models.code_system_load import CodeSystemLoad
from db.models.cpt_code import CPTCode
from db.models.document import ClaimDocument
from db.models.document_version import ClaimDocumentVersion
from db.models.edit_mce import MceEdit
from db.models.edit_mue import MueEdit
from db.models.edit_ncci_ptp import NcciPtpEdit
from db.models.icd10_code import ICD10Code
from db.models.insurance_claim import InsuranceClaim
from db.models.integration import IntegrationRow
from db.models.integration_route import IntegrationRoute
from db.models.ledger_entry import ClaimLedgerEntry
from db.models.ledger_provider_adjustment import ProviderAdjustmentRow
from db.models.patient import Patient
from db.models.payer import Payer
from db.models.payment import Payment
from db.models.provider import Provider
from db.models.rate_limit import RateLimitWindow
from db.models.risk_rule import RiskRuleRow
from db.models.subscription import Subscription
from db.models.webhook_delivery import WebhookDelivery
from db.models.x12_interchange import X12Interchange

__all__ = [
    "Adjuster",
    "AssignmentRuleSet",
    "AuditChainHead",
    "AuditLog",
    "BillClaimRelation",
    "CPTCode",
    "ClaimDocument",
    "ClaimDocumentVersion",
    "ClaimEligibility",
    "ClaimLedgerEntry",
    "ClaimLineAdjudication",
    "ClaimNote",
    "ClaimProviderInfo",
    "ClaimRegister",
    "ClaimStatusHistory",
    "ClaimTestRelation",
    "CodeSystemLoad",
    "ICD10Code",
    "InsuranceClaim",
    "IntegrationRoute",
    "IntegrationRow",
    "MceEdit",
    "MueEdit",
    "NcciPtpEdit",
    "Patient",
    "Payer",
    "Payment",
    "Provider",
    "ProviderAdjustmentRow",
    "RateLimitWindow",
    "RiskRuleRow",
    "Subscription",
    "WebhookDelivery",
    "X12Interchange",
]
