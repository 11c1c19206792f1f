"""Reporters: each turns findings (or an inspection) into one output format."""
