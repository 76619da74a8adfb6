import pytest

from pipeline.asr.text import for_cer, for_scoring, han_count, normalize_numbers, normalize_transcript


def test_transcripts_become_simplified_with_full_width_punctuation():
    assert (
        normalize_transcript(" 您好,這裡是陽光物業客服中心. 請問有什麼可以幫您? ")
        == "您好，这里是阳光物业客服中心。请问有什么可以帮您？"
    )


def test_the_particle_zhe_is_simplified_and_the_character_zhu_kept():
    assert normalize_transcript("我提著很多東西，等著你們") == "我提着很多东西，等着你们"
    assert normalize_transcript("這是著名的小區，效果顯著") == "这是著名的小区，效果显著"


def test_scoring_text_drops_punctuation_and_spaces():
    assert for_scoring("您好， 這裡是 Amara.org！") == "您好这里是amaraorg"


def test_han_count_ignores_digits_and_punctuation():
    assert han_count("下午2点，上门。") == 5


def test_spoken_count_counts_a_number_alike_in_digits_and_in_characters():
    from pipeline.asr.text import spoken_count

    assert spoken_count("中午12点到两点") == spoken_count("中午十二点到两点") == 8
    assert spoken_count("下午2点，上门。") == 6  # punctuation is not said


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("一二线城市", "12线城市"),  # AISHELL-1 BAC009S0764W0122, which Whisper writes 12线
        ("12线城市", "12线城市"),
        ("十二", "12"),
        ("二十三", "23"),
        ("一百零五", "105"),
        ("一百五", "150"),  # colloquial: a bare digit after 百 is tens
        ("三万五", "35000"),
        ("一万零一", "10001"),
        ("35万", "350000"),
        ("两千零二十六年", "2026年"),
        ("二零二六年", "2026年"),
        ("幺三八", "138"),  # 幺 for 1 in phone numbers
        ("两个", "2个"),
        ("百分之五十", "50"),
        ("１２", "12"),  # full-width digits
        ("万一", "万1"),  # 万 and 千 do not start a number
        ("千万别", "千万别"),
        ("没有数字", "没有数字"),
    ],
)
def test_numbers_have_one_normal_form(written, normal):
    assert normalize_numbers(written) == normal


def test_cer_text_treats_arabic_and_chinese_numbers_alike():
    assert for_cer("一二线城市，虽然！") == for_cer("12线城市虽然") == "12线城市虽然"
    assert for_cer("请拨打幺三八") == for_cer("请拨打138")
    assert for_cer("50%的业主") == for_cer("百分之五十的业主")
