"""Rule packs: the declarative language of stage exit criteria."""
