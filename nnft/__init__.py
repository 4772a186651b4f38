"""nnft: neural-network field theory. Public API re-exported here; everything else is internal."""
