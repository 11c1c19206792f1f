"""Calibration: which milestones of a rule set tell won deals from lost ones, on closed deals."""
