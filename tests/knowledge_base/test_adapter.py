import numpy as np
import pytest

from knowledge_base.adapter import Adapter, AdapterError


def test_adapter_maps_vectors_to_unit_length_and_survives_a_round_trip_through_bytes():
    matrix = np.diag([2.0, 1.0, 1.0]).astype(np.float32)
    adapter = Adapter("enc", matrix, version=3)
    mapped = adapter.apply(np.asarray([[1.0, 1.0, 0.0]], dtype=np.float32))
    assert np.allclose(mapped, [[2 / np.sqrt(5), 1 / np.sqrt(5), 0.0]], atol=1e-6)
    again = Adapter.from_bytes("enc", adapter.to_bytes(), 3)
    assert again.dim == 3 and np.array_equal(again.matrix, matrix) and again.version == 3


def test_adapter_refuses_vectors_of_another_dimension_and_unreadable_bytes():
    adapter = Adapter("enc", np.eye(4, dtype=np.float32))
    with pytest.raises(AdapterError, match="dimension"):
        adapter.apply(np.ones((2, 3), dtype=np.float32))
    with pytest.raises(AdapterError):
        Adapter.from_bytes("enc", b"not an array")
    assert adapter.apply(np.zeros((0, 4), dtype=np.float32)).shape == (0, 4)
