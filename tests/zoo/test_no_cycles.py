"""The zoo's modules import each other one way only: no circles, counting imports inside functions."""
import itertools

import pytest

grimp = pytest.importorskip("grimp")


def test_zoo_modules_import_each_other_without_cycles():
    graph = grimp.build_graph("workbench")
    modules = sorted(m for m in graph.modules if m.startswith("workbench.zoo."))
    assert "workbench.zoo.training" in modules and "workbench.zoo.catalogue" in modules
    cycles = [(a, b, graph.find_shortest_chain(a, b), graph.find_shortest_chain(b, a))
              for a, b in itertools.combinations(modules, 2)
              if graph.chain_exists(a, b) and graph.chain_exists(b, a)]
    assert not cycles, cycles


def test_the_catalogue_and_the_nets_import_no_trainer():
    graph = grimp.build_graph("workbench")
    trainers = {"workbench.zoo.training", "workbench.zoo.train_classification",
                "workbench.zoo.train_detection", "workbench.zoo.train_segmentation",
                "workbench.zoo.train_generative"}
    for module in ("workbench.zoo.catalogue", "workbench.zoo.generative"):
        reached = graph.find_upstream_modules(module)
        assert not reached & trainers, (module, reached & trainers)
