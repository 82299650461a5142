"""Bad MiniMax-H3 inputs never reach the vendor: the real generate operator refuses each one first.

The rows are ``tests/unit/v2_bad_inputs.py``'s table (real media files made there), plus the
operator-level rules: options of the other API, and H3 models on the resellers' connections.
Each case checks the error class, the parameter named (on the error and in its message), no key in
the message, and that the emulator saw no request at all (not a create, not an upload, not a query).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hailuo.exceptions import HailuoInvalidRequestError
from tests.conftest import EMULATOR_API_KEY
from tests.reliability.helpers import run_generate
from tests.unit.v2_bad_inputs import BAD_INPUTS, build_media_files, resolve

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

#: Rows that would need a real object store (s3:// without one would leave the machine); the
#: reliability suite's object-storage cases (test_bad_inputs.py) cover that path against moto.
NEEDS_NETWORK = {"object storage outside Airflow"}
TABLE = {name: (kwargs, parameter) for name, kwargs, parameter in BAD_INPUTS if name not in NEEDS_NETWORK}

OPERATOR_RULES: dict[str, tuple[dict[str, Any], str]] = {
    "subject_reference with H3": ({"subject_reference": "https://cdn.example.com/face.png"}, "subject_reference"),
    "prompt_optimizer with H3": ({"prompt_optimizer": True}, "prompt_optimizer"),
    "fast_pretreatment with H3-Max": ({"model": "MiniMax-H3-Max", "fast_pretreatment": True}, "fast_pretreatment"),
    "ratio with a Hailuo model": ({"model": "MiniMax-Hailuo-2.3", "ratio": "9:16"}, "ratio"),
    "reference_images with a Hailuo model": ({"model": "MiniMax-Hailuo-02",
                                              "reference_images": ["https://cdn.example.com/a.png"]},
                                             "reference_images"),
    "reference_audios with a Hailuo model": ({"model": "MiniMax-Hailuo-2.3",
                                              "reference_audios": ["https://cdn.example.com/a.mp3"]},
                                             "reference_audios"),
    "prompt_expansion_mode with a Hailuo model": ({"model": "MiniMax-Hailuo-2.3",
                                                   "prompt_expansion_mode": "quality"}, "prompt_expansion_mode"),
    "H3 on a DMXAPI connection": ({"hailuo_conn_id": "dmxapi"}, "model"),
    "H3-Max on a Modelverse connection": ({"hailuo_conn_id": "modelverse", "model": "MiniMax-H3-Max"}, "model"),
}
CASES = {**{f"table: {name}": case for name, case in TABLE.items()},
         **{f"operator: {name}": case for name, case in OPERATOR_RULES.items()}}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return build_media_files(Path(tmp_path_factory.mktemp("h3-bad-media")))


def test_the_suite_holds_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", list(CASES))
def test_bad_h3_input_fails_before_any_request(name: str, emulator: Any, vendor_conns: dict[str, str],
                                               media: dict[str, str]) -> None:
    overrides, parameter = CASES[name]
    kwargs: dict[str, Any] = {"model": "MiniMax-H3", "prompt": "A red fox runs through snow", "deferrable": False}
    kwargs.update({key: resolve(value, media) for key, value in overrides.items()})
    conn_id = vendor_conns[kwargs.pop("hailuo_conn_id", "minimax")]
    with pytest.raises(HailuoInvalidRequestError) as caught:
        run_generate(conn_id, **kwargs)
    error, message = caught.value, str(caught.value)
    assert error.parameter == parameter, message
    assert parameter in message, message
    assert EMULATOR_API_KEY not in message
    assert emulator.requests() == [], json.dumps(emulator.requests(), default=str)[:500]
