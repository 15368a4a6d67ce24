"""The actors of cogov as Mesa agents."""

from agents.assessment import Assessment
from agents.government import CommunityWorkstation, Department, StreetOffice
from agents.party import PartyBranch, StreetPartyCommittee
from agents.resident import Resident
from agents.social_org import SocialOrganisation

__all__ = [
    "Assessment",
    "CommunityWorkstation",
    "Department",
    "PartyBranch",
    "Resident",
    "SocialOrganisation",
    "StreetOffice",
    "StreetPartyCommittee",
]
