"""Collision-avoidance maneuver planning: trade space, smallest Δv to a target Pc, re-screening."""

from .plan import (
    DEFAULT_MISS_FLOOR_KM,
    DEFAULT_TARGET_PC,
    DEFAULT_THRESHOLD_PC,
    AvoidancePlan,
    AvoidanceProblem,
    Checked,
    NewConjunction,
    Option,
    TradeSpace,
    Verified,
    catalog_rescreen,
    default_lead_times,
    options,
    plan_avoidance,
    sensitivity,
    trade_space,
    verify,
)
from .rescreen import Pass, rescreen

__all__ = [
    "DEFAULT_MISS_FLOOR_KM",
    "DEFAULT_TARGET_PC",
    "DEFAULT_THRESHOLD_PC",
    "AvoidancePlan",
    "AvoidanceProblem",
    "Checked",
    "NewConjunction",
    "Option",
    "Pass",
    "TradeSpace",
    "Verified",
    "catalog_rescreen",
    "default_lead_times",
    "options",
    "plan_avoidance",
    "rescreen",
    "sensitivity",
    "trade_space",
    "verify",
]
