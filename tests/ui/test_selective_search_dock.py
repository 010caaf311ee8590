"""Selective-search proposals in the Detection panel: a result of the Method panel's selective-search
lands there, its proposals drawn at once and named by rank; a detect result after it shows the RPN's
proposals the same way, named by objectness."""
import numpy as np
import pytest

from workbench.core import runner
from workbench.core.methods.detect import METHOD as DETECT
from workbench.core.methods.selective_search import METHOD
from workbench.core.renderers import DETECTION
from workbench.ui.detection.dock import DetectionPanel


@pytest.fixture(scope="module")
def fasterrcnn(bundled):
    return bundled("shapes-fasterrcnn")


@pytest.fixture(scope="module")
def image():
    from workbench.core.samples import sample_image
    return sample_image("scene-3")


def test_selective_search_proposals_are_drawn_by_rank_beside_the_rpns(bind, workspace, canvas, fasterrcnn, image):
    workspace.set_model(fasterrcnn)
    workspace.set_image(image)
    canvas.set_image(image)
    panel = bind(DetectionPanel)
    assert not panel.proposals.isChecked()
    ss = runner.run_method(METHOD, runner.context(fasterrcnn, image), {})
    assert workspace.show(ss) == DETECTION and panel.result is ss
    assert panel.proposals.isChecked() and panel.proposal_legend.text() == "rank 10,000..1"
    panel.top_k.setValue(20)
    layer = canvas.layer(panel.layer_id("proposals"))
    np.testing.assert_array_equal(layer.boxes, ss.proposals[:20][::-1])     # the first 20, first on top
    assert layer.name == "proposals (top 20 by rank)"
    assert panel.summary.text() == f"selective search {ss.time_ms:.0f} ms · {len(ss.proposals)} proposals, " \
                                   "the first 20 shown"
    assert panel.box_text(layer.id, 19).startswith(f"proposal 0: rank 1 of {len(ss.proposals)} [")
    assert panel.table.rowCount() == 0
    # the detector's own run next: its RPN proposals, in the same layer, by objectness
    detected = runner.run_method(DETECT, runner.context(fasterrcnn, image), {})
    workspace.show(detected)
    assert panel.proposals.isChecked() and panel.proposal_legend.text() == "objectness low..high"
    rpn = canvas.layer(panel.layer_id("proposals"))
    assert rpn.name == "proposals (top 20 by objectness)" and rpn.colorbar_label == "objectness"
    assert "objectness" in panel.box_text(rpn.id, 19) and panel.summary.text().startswith("model ")
