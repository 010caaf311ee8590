"""The Attention tab: a vision transformer's attention per layer and head, rollout and positional similarity."""
