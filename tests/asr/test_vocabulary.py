from pipeline.asr.vocabulary import correct_words, domain_terms
from pipeline.records import Word

TERMS = ("感谢您的来电", "物业费", "物业", "工号", "保安")


def words(*texts):
    return [Word(t, i * 0.5, i * 0.5 + 0.4, 0.6) for i, t in enumerate(texts)]


def test_words_that_sound_like_a_domain_term_are_written_as_it():
    fixed = correct_words(words("阳光", "乌夜", "客服，", "功耗", "二零一"), TERMS)
    assert [w.text for w in fixed] == ["阳光", "物业", "客服，", "工号", "二零一"]
    # Timings and probabilities stay; only the characters change, in place.
    assert [(w.start, w.end, w.prob) for w in fixed] == [
        (w.start, w.end, w.prob) for w in words("a", "b", "c", "d", "e")
    ]


def test_a_term_across_two_words_keeps_each_words_characters_in_place():
    fixed = correct_words(words("北门的宝", "安不让我进"), TERMS)
    assert [w.text for w in fixed] == ["北门的保", "安不让我进"]
    assert [w.text for w in correct_words(words("感谢您的来", "店，再见"), TERMS)] == [
        "感谢您的来",
        "电，再见",
    ]


def test_only_exact_sounds_of_listed_terms_change():
    said = words("我想问一下", "这个", "季度", "的", "费用")
    assert correct_words(said, TERMS) == said  # nothing sounds like a term
    assert [w.text for w in correct_words(words("五月"), TERMS)] == ["五月"]  # wu yue is not wu ye
    assert correct_words(said, ()) == said


def test_domain_terms_from_the_user_dictionary():
    lines = ["物业 100 n", "# a comment", "", "工号 60 n"]
    assert domain_terms(lines, ["阳光花园"]) == ("阳光花园", "工号", "物业")


def test_a_dong_after_a_number_is_a_building():
    fixed = correct_words(words("我家是", "3动二", "单元"), ())
    assert [w.text for w in fixed] == ["我家是", "3栋二", "单元"]
    assert [(w.start, w.end) for w in fixed] == [(w.start, w.end) for w in words("a", "b", "c")]
    assert "".join(w.text for w in correct_words(words("您家是几东几号？"), TERMS)) == "您家是几栋几号？"
    assert "".join(w.text for w in correct_words(words("十五洞一单元"), TERMS)) == "十五栋一单元"
    assert "".join(w.text for w in correct_words(words("是一洞的"), TERMS)) == "是一栋的"


def test_a_dong_that_is_a_verb_stays():
    for said in ("电梯停在一楼一动不动", "我一动它就响", "一动也不动", "不动产", "买一东西"):
        assert "".join(w.text for w in correct_words(words(said), TERMS)) == said


def test_a_run_that_cuts_through_a_word_is_left_alone(lexicon):
    tokenizer = lexicon.tokenizer()
    # 们尽 sounds like 门禁 and 交那 like 缴纳, but each run cuts a word in two (我们, 那么).
    for said, term in (("我们尽力为您解决", "门禁"), ("我们每个月交那么多物业费", "缴纳")):
        assert "".join(w.text for w in correct_words(words(said), (term,), tokenizer)) == said
    assert "".join(w.text for w in correct_words(words("我们尽力"), ("门禁",))) == "我门禁力"  # unguarded
    # A misheard term that is no word, or a word of its own, is still corrected.
    fixed = correct_words(
        words("一次性角那全年的", "物业费，宝杰阿姨"), ("缴纳", "保洁", "物业费"), tokenizer
    )
    assert "".join(w.text for w in fixed) == "一次性缴纳全年的物业费，保洁阿姨"


def test_an_everyday_word_is_taken_as_heard(lexicon):
    tokenizer = lexicon.tokenizer()
    # 不在 is listed (a banned reply); 不再 sounds the same and is one of the commonest words.
    said = words("我以后", "不再打了")
    assert correct_words(said, ("不在",), tokenizer) == said
    # 午夜 for 物业 is a rare word in a service call's sound: it is rewritten.
    assert "".join(w.text for w in correct_words(words("阳光午夜"), ("物业",), tokenizer)) == "阳光物业"


def test_the_words_each_term_rewrites_can_be_reviewed(lexicon):
    from pipeline.asr.vocabulary import sound_alikes

    alikes = sound_alikes(("物业", "不在", "客服经理"), lexicon.tokenizer())
    assert ("午夜", 231) in alikes["物业"] and alikes["不在"][0][0] == "不再"
    assert alikes["客服经理"] == []
