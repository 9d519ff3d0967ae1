"""The faithfulness check drops sentences whose numbers or identifiers the input does not contain."""

from narrator.checks.faithful import check, claims


def test_invented_versions_are_removed_and_flagged():
    source = "Fix crash when the cart is empty\n-    cart.append(item)\n+    if item is None: raise ValueError"
    answer = "This change fixes a crash when the cart is empty. It is a fix for versions 10.3 and 10.8."
    checked = check(answer, source)
    assert checked.text == "This change fixes a crash when the cart is empty."
    assert "10.3" in checked.removed and "10.8" in checked.removed
    assert checked.flags["dropped_sentences"] == 1


def test_numbers_and_identifiers_present_in_input_are_kept():
    source = "Raise the retry limit from 3 to 5 in http_client.retry_policy"
    answer = "The retry limit goes from 3 to 5 in http_client.retry_policy."
    assert check(answer, source).text == answer
    assert check(answer, source).flags == {}


def test_a_number_is_not_supported_by_a_longer_number():
    assert check("It waits 10 seconds.", "timeout = 100").text == ""
    assert check("It waits 100 seconds.", "timeout = 100").text == "It waits 100 seconds."


def test_invented_identifiers_are_removed():
    checked = check("It calls parseConfig to read settings. It reads the settings.", "def load(): read settings")
    assert checked.text == "It reads the settings."
    assert checked.removed == ["parseConfig"]


def test_rambling_is_cut_to_the_sentence_limit_and_repeats_dropped():
    answer = "It adds new items. It adds new items. It totals all prices. It shows a page. It sends the mail."
    checked = check(answer, "items prices page mail", max_sentences=2)
    assert checked.text == "It adds new items. It totals all prices."
    assert checked.dropped == 3


def test_code_and_markup_are_stripped():
    answer = "**It adds an item.**\n```python\ncart.append(x)\n```\n- It returns the cart."
    assert check(answer, "add item return cart").text == "It adds an item. It returns the cart."


def test_cut_off_short_and_dangling_sentences_are_dropped():
    assert check("It adds items to carts. It also", "x").text == "It adds items to carts."
    assert check("It adds items. This can be", "x").text == "It adds items."
    assert check("The. This can be useful for.", "x").text == "This can be useful for."
    assert check("The style of this log is:.", "x").text == ""


def test_a_lone_subject_line_without_full_stop_is_kept():
    lone = check("Add progress bar to the editor", "progress bar editor")
    assert lone.text == "Add progress bar to the editor." and lone.flags == {}
    assert check("Add bar", "bar").text == ""


def test_unsupported_aside_is_cut_and_the_sentence_kept():
    source = "def close(self): release every resource"
    checked = check("This method (Context.close, in src/click_core.py) releases every resource.", source)
    assert checked.text == "This method releases every resource."
    assert "click_core" in " ".join(checked.removed) and checked.dropped == 1


def test_claims_finds_numbers_versions_and_code_names():
    found = claims("Version v2.1 moves load_config and parseArgs into utils.io, 50% faster, e.g. here.")
    assert {"v2.1", "load_config", "parseArgs", "utils.io", "50%"} <= set(found)
    assert "e.g" not in found


def test_a_word_mangled_from_the_input_is_an_invention():
    from narrator.checks.faithful import check, invented_words

    source = "Create projects swiftly from cookiecutters (project templates) with this command-line utility."
    # "cookiecuts" is no English word, not in the input, and a mangled "cookiecutters".
    checked = check("It makes projects quickly from cookiecuts.", source)
    assert checked.text == "" and checked.removed == ["cookiecuts"]
    # English words and inflections of the input's words are not inventions, nor is a name unlike any input word.
    assert invented_words("It creates templated projects for different utilities.", source.lower(),
                          {"create", "projects", "swiftly", "cookiecutters", "project", "templates", "command", "utility"}) == []
    assert check("Cookiecutter creates projects from the templates you choose.", source).text
