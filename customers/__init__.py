"""Customers: who the embedding site vouches for (identity verification) and their record across devices."""
