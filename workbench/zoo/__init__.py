"""Qt-free ground floor: bundled datasets (shapes, digits), nets, training and model cards."""
