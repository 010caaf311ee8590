"""Qt-free core: images, model handles, hooks, targets, results and methods."""
