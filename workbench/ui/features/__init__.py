"""The Features tab: activation maximisation, feature inversion and DeepDream, live."""
