from griddesk.text import lexical_chars, normalize


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
