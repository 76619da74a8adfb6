"""The reply reader (pipeline.rules.reader): the run reads the model its recipe writes (at
install: tests/models/test_store.py) exactly as scikit-learn would, and its shadow rules find the replies the guide asks
against with evidence a reviewer can check."""

from __future__ import annotations

import hashlib

import pytest

from pipeline.config import RulesConfig, ScoringConfig
from pipeline.rules import RULE_GUIDE, RULE_NAMES, RULE_NEEDS, CallContext, apply_rules
from pipeline.rules.modes import rule_mode
from pipeline.rules.reader import READS, ReplyReader
from pipeline.rules.reader.model import MODEL_PATH, char_ngrams
from pipeline.rules.reader.rule import learned_replies
from pipeline.rules.reader.train import BENCH, examples, fit
from tests.conftest import TRUSTED, utt


@pytest.fixture(scope="module")
def reader() -> ReplyReader:
    return ReplyReader.load()


def _call(lexicon, *lines, roles=TRUSTED, **rules) -> CallContext:
    return CallContext("R1", "A1", 60.0, tuple(lines), roles, lexicon, RulesConfig(**rules))


def test_the_run_reads_the_model_as_scikit_learn_does():
    import numpy as np
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from pipeline.evaluation.synth.guide import load_guide_bank
    from pipeline.rules.reader.train import CALLER_NGRAMS, MIN_DF, REPLY_NGRAMS, C

    rows = examples(load_guide_bank("dev", BENCH / "guide-dev-text5.yaml"))
    held = examples(load_guide_bank("dev", BENCH / "guide-dev-text6.yaml"))
    ours = ReplyReader({"trained_on": [], **fit(rows)})
    reply_v = TfidfVectorizer(analyzer="char", ngram_range=REPLY_NGRAMS, sublinear_tf=True, min_df=MIN_DF)
    caller_v = TfidfVectorizer(analyzer="char", ngram_range=CALLER_NGRAMS, sublinear_tf=True, min_df=MIN_DF)
    x = hstack([reply_v.fit_transform([r[3] for r in rows]), caller_v.fit_transform([r[2] for r in rows])])
    xt = hstack([reply_v.transform([r[3] for r in held]), caller_v.transform([r[2] for r in held])])
    for kind, (section, field) in READS.items():
        y = np.array([r[0] == section and r[1] == field for r in rows])
        theirs = (
            LogisticRegression(max_iter=5000, class_weight="balanced", C=C).fit(x, y).predict_proba(xt)[:, 1]
        )
        mine = np.array([ours.read(kind, r[2], r[3]).probability for r in held])
        assert np.abs(mine - theirs).max() < 1e-3, kind


def test_ngrams_are_counted_as_scikit_learn_counts_them():
    assert char_ngrams("不在  了", 1, 2) == {"不": 1, "在": 1, " ": 1, "了": 1, "不在": 1, "在 ": 1, " 了": 1}
    assert char_ngrams("AB", 1, 1) == {"a": 1, "b": 1}


def test_a_bare_absence_is_found_with_the_words_that_weighed(lexicon, reader):
    ctx = _call(
        lexicon,
        utt("agent", 0.5, 3.0, "您好，阳光物业客服中心，请问有什么可以帮您？"),
        utt("caller", 3.5, 5.0, "你好，我找一下你们王经理。"),
        utt("agent", 5.5, 7.5, "王经理不在，出去了。"),
        utt("caller", 8.0, 9.0, "哦，那好吧。"),
    )
    events = learned_replies(ctx, reader)
    assert [e.rule_id for e in events] == ["message.not_offered_learned"]
    event = events[0]
    assert (event.start, event.end, event.severity) == (5.5, 7.5, "minor")
    assert event.evidence.startswith("王经理不在，出去了。〔模型判读：")
    assert "「不在」" in event.evidence and "（客户：你好，我找一下你们王经理。）" in event.evidence
    digest = hashlib.sha256(MODEL_PATH.read_bytes()).hexdigest()[:12]
    assert event.rule_version.startswith(f"2.{digest}+lex.")


def test_an_offer_an_apology_and_a_clear_answer_are_not_findings(lexicon, reader):
    ctx = _call(
        lexicon,
        utt("caller", 1.0, 2.5, "王经理在吗？"),
        utt("agent", 3.0, 6.0, "王经理出去了，您要不要留个言？我一定转告他。"),
        utt("caller", 6.5, 8.5, "这个月物业费能不能给我免了？"),
        utt("agent", 9.0, 13.0, "实在抱歉，物业费是按面积收的，没法减免，还请您理解。"),
        utt("caller", 13.5, 15.0, "几点停水？"),
        utt("agent", 15.5, 18.0, "下午两点到五点停水，五点恢复供水。"),
    )
    assert learned_replies(ctx, reader) == []


def test_a_flat_refusal_and_an_unsure_answer_are_findings(lexicon, reader):
    ctx = _call(
        lexicon,
        utt("caller", 1.0, 2.5, "这个月物业费能不能给我免了？"),
        utt("agent", 3.0, 5.0, "免不了，按规定都得交。"),
        utt("caller", 5.5, 7.0, "那几点停水？"),
        utt("agent", 7.5, 11.0, "呃，好像是……下午吧，我也说不太准。"),
    )
    found = {e.rule_id: e for e in learned_replies(ctx, reader)}
    assert set(found) == {"refusal.no_apology_learned", "hesitation.unsure_learned"}
    assert "「不了」" in found["refusal.no_apology_learned"].evidence
    assert "「好像」" in found["hesitation.unsure_learned"].evidence


def test_roles_not_trusted_a_threshold_and_unscorable_words_are_respected(lexicon, reader):
    from pipeline.records import RoleAssignment

    lines = (utt("caller", 1.0, 2.0, "王经理在吗？"), utt("agent", 2.5, 4.0, "王经理不在，出去了。"))
    unsure = RoleAssignment(agent_speaker="SPEAKER_00", confidence=0.2, reason="no cue")
    assert learned_replies(_call(lexicon, *lines, roles=unsure), reader) == []
    assert learned_replies(_call(lexicon, *lines, absence_reader_threshold=0.999), reader) == []
    # Each kind has its own bar: raising another kind's leaves the absence found.
    raised = {"unsure_reader_threshold": 0.999, "refusal_reader_threshold": 0.999}
    assert [e.rule_id for e in learned_replies(_call(lexicon, *lines, **raised), reader)] == [
        "message.not_offered_learned"
    ]
    flagged = (lines[0], utt("agent", 2.5, 4.0, "王经理不在，出去了。", flags=("hallucination",)))
    assert learned_replies(_call(lexicon, *flagged), reader) == []


def test_the_opening_replies_to_nobody_and_is_not_read(lexicon, reader):
    # Before the caller has said anything there is no reply: a curt opening (说。) is greeting.missing's.
    opening = _call(lexicon, utt("agent", 2.0, 4.0, "说。"), utt("agent", 4.5, 6.0, "不在，不知道。"))
    assert learned_replies(opening, reader) == []


def test_the_reader_s_rules_run_with_the_others_on_trial(lexicon):
    ctx = _call(
        lexicon, utt("caller", 1.0, 2.0, "王经理在吗？"), utt("agent", 2.5, 4.0, "王经理不在，出去了。")
    )
    assert "message.not_offered_learned" in {e.rule_id for e in apply_rules(ctx)}
    for kind in READS:
        assert kind in RULE_NAMES and kind in RULE_GUIDE and RULE_NEEDS[kind] == {"words"}
        assert rule_mode(kind, ScoringConfig()) == "shadow"


# The hand-made replies the phrase-list rules were unit-tested on before they were retired
# (2026-12-07), read by the reader that replaced them; none of them was written for the reader,
# and it was not changed for them.
_LISTS_CASES = (
    (
        "hesitation.unsure_learned",
        "请问这个月的物业费什么时候截止？",
        "呃，可能是月底吧，我也不太清楚。",
        True,
    ),
    (
        "hesitation.unsure_learned",
        "请问这个月的物业费什么时候截止？",
        "本月二十五号截止，您可以在手机上缴纳。",
        False,
    ),
    (
        "hesitation.unsure_learned",
        "请问这个月的物业费什么时候截止？",
        "两点，不对，三点？反正是下午，具体几点我也说不好。",
        True,
    ),
    ("refusal.no_apology_learned", "这个月的物业费能不能免了？", "不行，物业费每个月都要交。", True),
    ("refusal.no_apology_learned", "这个月的物业费能不能免了？", "非常抱歉，物业费没有办法减免。", False),
    (
        "refusal.no_apology_learned",
        "你们保安晚上能不能帮我接一下孩子放学？",
        "保安要站岗，这种私事我们不办。",
        True,
    ),
    (
        "refusal.no_apology_learned",
        "外地车能进小区吗？你们帮我开一下门吧。",
        "外地车牌系统也能识别，如果道闸没有反应，请您按旁边的呼叫按钮。",
        False,
    ),
    ("message.not_offered_learned", "请问杨经理在办公室吗？", "杨经理去银行了，下午才回来。", True),
    ("message.not_offered_learned", "冯工还在吗？", "冯工在配电房检修，那里没信号。", True),
    (
        "message.not_offered_learned",
        "请问管家小高在吗？",
        "小高今天外出培训，您的事交给我，我记下来转告他。",
        False,
    ),
)


@pytest.mark.parametrize(("kind", "caller", "reply", "against"), _LISTS_CASES)
def test_the_retired_lists_hand_made_cases_are_read_alike(lexicon, reader, kind, caller, reply, against):
    ctx = _call(lexicon, utt("caller", 1.0, 3.0, caller), utt("agent", 3.5, 7.0, reply))
    assert (kind in {e.rule_id for e in learned_replies(ctx, reader)}) == against


def test_a_retired_rule_no_longer_runs_and_its_stored_findings_cost_nothing(lexicon, caplog):
    from pipeline.config import RETIRED_RULES, Config
    from pipeline.rules.modes import points

    ctx = _call(
        lexicon, utt("caller", 1.0, 2.0, "王经理在吗？"), utt("agent", 2.5, 4.0, "王经理不在，出去了。")
    )
    raised = {e.rule_id for e in apply_rules(ctx)}
    for retired, (successor, _) in RETIRED_RULES.items():
        assert retired not in raised and successor in READS
        # A weight left in a centre's configuration does not make its old findings cost points.
        weighted = ScoringConfig(weights={retired: 5.0})
        assert rule_mode(retired, weighted) == "retired" and points(retired, weighted, "2026-12-08") == 0.0
        with pytest.raises(ValueError, match=f"{retired} was retired on .* read by {successor}"):
            ScoringConfig(promoted={retired: "2026-12-14"})
        assert retired in RULE_NAMES and retired not in RULE_NEEDS
    # A setting only a retired rule read is ignored, and the log says why; a typo is still an error.
    config = Config.from_dict({"rules": {"hesitation_min_cues": 3, "ni_min_count": 3}})
    assert config.rules.ni_min_count == 3
    assert "hesitation_min_cues is ignored: hesitation.unsure" in caplog.text
    with pytest.raises(ValueError, match="unknown config key"):
        Config.from_dict({"rules": {"hesitation_min_cue": 3}})


def test_a_reading_without_a_weighing_word_says_so(lexicon, reader):
    # E002 of the evaluation corpus: a lone 好得 (好的) after a long complaint read as doubt.
    complaint = "我是五栋的业主，我们单元门口的垃圾桶已经两天没有人清理了，现在垃圾都堆到地上了。"
    ctx = _call(
        lexicon,
        utt("caller", 1.0, 8.0, complaint),
        utt("agent", 8.5, 9.0, "好得"),
        unsure_reader_threshold=0.01,  # whatever the reading, a finding to read the evidence of
    )
    (event,) = [e for e in learned_replies(ctx, reader) if e.rule_id == "hesitation.unsure_learned"]
    assert "回复里没有偏向此判读的词" in event.evidence and "最重的字串" not in event.evidence
