"""Grids (网格): who serves which customers, with what service levels, and routing to them."""
