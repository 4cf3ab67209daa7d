"""The topic ids and regions every content set must have (the contract in shared/spec/topics.yaml).

The dialog refers to some of these ids directly (booking, contact, privacy, help); tests check that
this list and the spec agree.
"""

REGIONS = ("sundsvall", "vastervik")
LANGUAGES = ("sv", "en")

REQUIRED_TOPICS = (
    "social-enterprise", "wise",
    "find-work", "who-can-join", "pay-and-terms", "wage-subsidy", "work-training", "rehabilitation",
    "benefits", "enterprises",
    "start", "business-idea", "business-plan", "legal-form", "funding", "selling", "handbook",
    "support-overview", "arbetsformedlingen", "forsakringskassan", "samordningsforbundet",
    "naringslivsbolaget", "municipality", "region", "coompanion", "network", "project",
    "book-meeting", "cancel-booking", "contact",
    "privacy", "help",
)  # fmt: skip

# Topics that start a flow in the dialog rather than only answering.
ACTION_TOPICS = ("book-meeting", "cancel-booking")
