from pipeline.text import for_scoring, han_count, normalize_transcript


def test_transcripts_become_simplified_with_full_width_punctuation():
    assert (
        normalize_transcript(" 您好,這裡是陽光物業客服中心. 請問有什麼可以幫您? ")
        == "您好，这里是阳光物业客服中心。请问有什么可以帮您？"
    )


def test_scoring_text_drops_punctuation_and_spaces():
    assert for_scoring("您好， 這裡是 Amara.org！") == "您好这里是amaraorg"


def test_han_count_ignores_digits_and_punctuation():
    assert han_count("下午2点，上门。") == 5
