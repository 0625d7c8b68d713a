"""Request plumbing the blueprints share: identity, access, pagination, limits, audit, metrics."""
