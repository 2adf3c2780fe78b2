import pytest
import torch

import neurovision
from neurovision.families.dcn import VARIANTS, count_parameters


@pytest.mark.parametrize("model_id", sorted(VARIANTS))
def test_registered_builds_and_classifies(model_id):
    torch.manual_seed(0)
    model = neurovision.load_model(model_id, method="euler", steps=1)
    with torch.no_grad():
        logits = model(torch.rand(2, 3, 32, 32))
    assert logits.shape == (2, 10) and torch.isfinite(logits).all()
    reference = VARIANTS[model_id].reference_params
    if reference is not None:
        assert abs(count_parameters(model) - reference) / reference < 0.03
