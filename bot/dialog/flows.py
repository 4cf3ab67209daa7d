"""Every flow's steps in one table: step name -> prompt, buttons, free-text reader, Back.

One module per flow declares its steps: onboarding (the region), booking, manage (cancel and move) and
deletion. The core looks a conversation's step up here; a step missing from the table is a bug that the
tests catch (every FlowName but "idle" must be here).
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.dialog import booking, deletion, manage, onboarding
from bot.dialog.flow import Step
from bot.dialog.model import FlowName

STEPS: Mapping[FlowName, Step] = {
    step.name: step for module in (onboarding, booking, manage, deletion) for step in module.STEPS
}
