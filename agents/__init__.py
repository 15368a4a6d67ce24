"""The actors of cogov as Mesa agents."""

from agents.government import CommunityWorkstation, Department, StreetOffice
from agents.party import PartyBranch, StreetPartyCommittee
from agents.resident import Resident
from agents.social_org import SocialOrganisation

__all__ = [
    "CommunityWorkstation",
    "Department",
    "PartyBranch",
    "Resident",
    "SocialOrganisation",
    "StreetOffice",
    "StreetPartyCommittee",
]
