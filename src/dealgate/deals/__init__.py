"""Deal records: the canonical deal, readers, CRM profiles and mapping."""
