"""A call spooled to disk (what happens past run.spool_after_s) scores exactly like one in memory."""

from dataclasses import replace

import pytest

from pipeline.config import Config
from pipeline.run.process import Models, process_call
from pipeline.run.scan import scan_share

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("call_id", ["S001", "S010"])  # stereo, and mono (embeddings read from disk)
def test_spooled_and_in_memory_calls_give_the_same_result(sample_share, call_id):
    ref = next(r for r in scan_share(sample_share).calls if r.call_id == call_id)
    cfg = Config()
    models = Models.load(cfg)
    in_memory = process_call(ref, cfg, models)
    spooled = process_call(ref, replace(cfg, run=replace(cfg.run, spool_after_s=3.0)), models)
    assert [(u.role, u.start, u.end, u.text) for u in spooled.utterances] == [
        (u.role, u.start, u.end, u.text) for u in in_memory.utterances
    ]
    assert [e.rule_id for e in spooled.events] == [e.rule_id for e in in_memory.events]
    assert spooled.roles == in_memory.roles and len(in_memory.utterances) >= 6
