import pytest

from griddesk.text import lexical_chars, normalize, normalize_utterance


def test_traditional_characters_become_simplified():
    assert normalize("你們的電話是多少") == "你们的电话是多少"
    assert normalize("發票開錯了") == "发票开错了"


def test_full_width_letters_and_digits_become_half_width_lower_case():
    assert normalize("ＡＰＰ　４００") == "app 400"


def test_control_and_invisible_characters_are_removed_and_spaces_folded():
    assert normalize("怎么\x00开\u200b发票 \t\n 呢") == "怎么 开 发票 呢"


def test_lexical_chars_keep_only_ideographs_letters_and_digits():
    assert lexical_chars(normalize("请问,怎么开发票?(APP)")) == "请问怎么开发票app"


def test_punctuation_at_either_end_is_dropped_but_kept_inside():
    assert normalize("  请问,怎么开发票?? ") == "请问,怎么开发票"
    assert normalize("怎么开发票？") == normalize("怎么开发票")


# --- normalize_utterance: what the assistant's NLU reads -----------------------------------------


@pytest.mark.parametrize(
    "typed, read",
    [
        ("密码。。。忘了！！！", "密码。忘了!"),
        ("怎么又扣我钱？？？？？", "怎么又扣我钱?"),
        ("网速慢死了！？！？看个视频卡成PPT", "网速慢死了!看个视频卡成PPT"),
        ("宽带又断了啊啊啊啊 咋整", "宽带又断了啊啊 咋整"),
        ("救命 光猫红灯一直闪闪闪", "救命 光猫红灯一直闪闪"),
        ("人工人工人工", "人工"),
        ("人工！！！人工！！！", "人工!"),
        ("客服客服客服", "客服"),
        ("在吗在吗", "在吗"),
    ],
)
def test_the_noise_of_emotion_is_folded(typed, read):
    assert normalize_utterance(typed) == read


@pytest.mark.parametrize("text", ["谢谢", "哈哈", "看看", "天天掉线", "试一试", "我要报修", "你好,格网服务"])
def test_ordinary_doubled_characters_and_plain_text_are_left_alone(text):
    assert normalize_utterance(text) == text


def test_traditional_characters_and_words_become_simplified():
    assert normalize_utterance("來電後網路不通") == "来电后网络不通"
    assert normalize_utterance("寬頻速度很慢，怎麼辦？") == "宽带速度很慢,怎么办?"
    assert normalize_utterance("帳單金額不對") == "账单金额不对"
    assert normalize_utterance("無線網路訊號很差") == "无线网络信号很差"


def test_digits_letters_and_case_are_kept():
    assert normalize_utterance("电话13888888888，工单GD-7K3QX9") == "电话13888888888,工单GD-7K3QX9"
    assert normalize_utterance("ＡＰＰ打不开　5555") == "APP打不开 5555"
    assert normalize_utterance("我要打12315投诉") == "我要打12315投诉"


def test_control_characters_and_spaces_are_cleaned():
    assert normalize_utterance("  怎么\x00开\u200b发票 \t ") == "怎么 开 发票"


def test_the_normal_form_is_stable():
    for text in ("密码。。。忘了！！！", "人工！！！人工！！！", "來電後網路不通", "啊啊啊啊啊啊啊"):
        once = normalize_utterance(text)
        assert normalize_utterance(once) == once
